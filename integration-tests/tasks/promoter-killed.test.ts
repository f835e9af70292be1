import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createRedisKit, createTasks, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { once } from 'node:events';
import { bundleWorker, startWorker } from '../harness';

let kit: RedisKit;
let url: string;
beforeAll(async () => {
  url = await sharedRedisUrl();
  kit = createRedisKit({ url, prefix: uniquePrefix('promoter'), logger: false });
  await kit.ready();
});
afterAll(() => kit.close());

it('loses no task when the worker promoting them is killed mid-run', async () => {
  const file = await bundleWorker(new URL('./__fixtures__/task-worker.ts', import.meta.url));
  const q = createTasks(kit).queue<number>('killed');
  const doneKey = kit.keys.key('done');
  const now = await kit.time();
  const ids: string[] = [];
  // 300 tasks coming due over three seconds, so the worker is promoting all the time.
  for (let i = 0; i < 300; i++) ids.push((await q.schedule(i, { at: now + 300 + i * 10 })).id);

  const child = startWorker(file, { url, prefix: kit.keys.prefix, queue: 'killed', doneKey, concurrency: 20, lease: 500 });
  const exited = once(child, 'exit');
  try {
    await waitFor('the child to be mid-run', async () => (await kit.redis.scard(doneKey)) >= 40);
    child.kill('SIGKILL');
    await exited;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  const doneByChild = await kit.redis.scard(doneKey);
  expect(doneByChild).toBeLessThan(300);

  const worker = q.process(async (task) => {
    await kit.redis.sadd(doneKey, task.id);
  }, { concurrency: 20, lease: 500 });
  try {
    await waitFor('every task done', async () => (await kit.redis.scard(doneKey)) === 300, 30_000);
    await waitFor('the queue to be empty', async () => {
      const s = await q.stats();
      return s.scheduled === 0 && s.active === 0;
    });
  } finally {
    await worker.close();
  }
  expect((await kit.redis.smembers(doneKey)).sort()).toEqual([...ids].sort());
  expect(await q.stats()).toEqual({ scheduled: 0, due: 0, active: 0, dead: 0 });
  await kit.redis.del(doneKey);
});
