import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createRedisKit, createStreams, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';

let url: string;
let kit: RedisKit;
beforeAll(async () => {
  url = await sharedRedisUrl();
  kit = createRedisKit({ url, prefix: uniquePrefix('restarts'), logger: false });
  await kit.ready();
});
afterAll(() => kit.close());

// 100 worker restarts, run in-process to keep the suite fast: each cycle is a
// new "process" (its own context, connections and consumer name, as a
// restarted process has a new pid), and every other one crashes (its context
// closed under it while it holds an unacknowledged entry) instead of shutting
// down. Redis sees exactly what it would see from real processes: consumers
// that stop talking, some with pending entries. consumer-killed-before-ack
// covers a real SIGKILL.
it('100 worker restarts leave XINFO CONSUMERS bounded and lose no entry', async () => {
  const s = createStreams(kit).stream<number>('jobs');
  const handled = new Set<number>();
  let published = 0;
  let maxConsumers = 0;
  // An entry can be held by several crashing consumers in a row: no dead-lettering here.
  const options = { minIdle: 300, claimInterval: 100, consumerTimeout: 300, block: 200, maxDeliveries: 1000 };

  for (let cycle = 0; cycle < 100; cycle++) {
    const crash = cycle % 2 === 1;
    const own = createRedisKit({ url, prefix: kit.keys.prefix, logger: false });
    await own.ready();
    let got = 0;
    const consumer = createStreams(own).stream<number>('jobs').consume('workers', async (msg) => {
      got++;
      if (crash && got === 1) return new Promise(() => {}); // dies holding this one
      handled.add(msg.data);
    }, { ...options, name: `proc-${cycle}` });
    await s.publish(published++);
    await s.publish(published++);
    await waitFor(`cycle ${cycle} to get an entry`, async () => got > 0);
    if (crash) await own.close();
    else {
      await consumer.close();
      await own.close();
    }
    const count = (await s.consumersOf('workers')).length;
    maxConsumers = Math.max(maxConsumers, count);
  }

  // One survivor takes over what the crashed ones held and prunes them.
  const survivor = s.consume('workers', (msg) => {
    handled.add(msg.data);
  }, { ...options, name: 'survivor' });
  try {
    await waitFor('every entry handled', async () => handled.size === published, 30_000);
    await waitFor('nothing pending', async () => Number(((await kit.redis.xpending(s.keys.stream, 'workers')) as [number])[0]) === 0);
    await waitFor('dead consumers pruned', async () => (await s.consumersOf('workers')).length <= 1, 30_000);
  } finally {
    await survivor.close();
  }
  expect(handled.size).toBe(200);
  // Bounded all along: far fewer consumers than the 100 that came and went.
  expect(maxConsumers).toBeLessThan(50);
  expect(await s.consumersOf('workers')).toEqual([]);
});
