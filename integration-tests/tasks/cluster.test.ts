import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, createTasks, type RedisKit, type Tasks } from '@rediskit/core';
import { sharedClusterNodes, uniquePrefix, waitFor } from '@rediskit/testing';

// A queue spans seven keys under one hash tag; several queues spread over the masters.
describe('delayed tasks on Redis Cluster', () => {
  let kit: RedisKit;
  let tasks: Tasks;
  beforeAll(async () => {
    // A generous timeout: this test is about Cluster behaviour, not about timeouts.
    kit = createRedisKit({
      cluster: { nodes: await sharedClusterNodes() },
      prefix: uniquePrefix('tasks-cluster'),
      logger: false,
      operationTimeout: 2000,
    });
    await kit.ready();
    tasks = createTasks(kit, { backoff: { type: 'fixed', delay: 20 }, maxAttempts: 2 });
  });
  afterAll(async () => {
    await tasks.close();
    await kit.close();
  });

  it('schedules, delivers in order, retries, dead-letters, cancels and reschedules on every queue', async () => {
    for (const name of ['mail', 'sms', 'push']) {
      const q = tasks.queue<number>(name);
      const order: number[] = [];
      q.process((task) => {
        if (task.payload < 0) throw new Error('bad');
        order.push(task.payload);
      });
      const at = (await kit.time()) + 400;
      for (let i = 0; i < 10; i++) await q.schedule(i, { at });
      const poison = await q.schedule(-1, { at: at + 1 });
      const cancelled = await q.schedule(100, { delay: 60_000, id: 'cancel-me' });
      const moved = await q.schedule(200, { delay: 60_000, id: 'move-me' });
      expect(await q.schedule(201, { id: 'move-me' })).toMatchObject({ created: false });
      expect(await q.cancel(cancelled.id)).toBe(true);
      expect(await q.reschedule(moved.id, { at: at + 2 })).toBe(true);
      await waitFor(`${name}: tasks run`, async () => order.length === 11);
      expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 200]);
      await waitFor(`${name}: poison dead`, async () => (await q.stats()).dead === 1);
      expect((await q.deadLetters())[0]).toMatchObject({ id: poison.id, attempts: 2, lastError: 'bad' });
      expect(await q.stats()).toMatchObject({ scheduled: 0, active: 0, dead: 1 });
    }
  });
});
