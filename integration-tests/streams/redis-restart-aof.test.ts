import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, createStreams, createTasks, isRedisKitError, type RedisKit } from '@rediskit/core';
import { startRedis, uniquePrefix, waitFor, type StartedRedis } from '@rediskit/testing';

// Redis killed (SIGKILL, as a crash) and restarted on the same port with
// `appendfsync always`: every publish or schedule Redis acknowledged, and every
// entry pending in a group, survives; consumers and workers reconnect by
// themselves. Producers fail closed during the outage and retry with their
// dedupe id, so a retry never duplicates.
describe('a Redis kill and restart with AOF', () => {
  let redis: StartedRedis;
  let kit: RedisKit;
  beforeAll(async () => {
    redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    kit = createRedisKit({ url: redis.url, prefix: uniquePrefix('aof'), logger: false, operationTimeout: 1000 });
    await kit.ready();
  });
  afterAll(async () => {
    await kit.close();
    await redis.stop();
  });

  async function untilAccepted<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        if (!isRedisKitError(error)) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  it('loses no acknowledged or pending stream entry, and no scheduled task', async () => {
    const streams = createStreams(kit);
    const s = streams.stream<number>('orders');
    const tasks = createTasks(kit);
    const q = tasks.queue<number>('reminders');

    const handled = new Set<number>();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const consumer = s.consume('billing', async (msg) => {
      // Entries 7 and 57 stay pending (delivered, not acknowledged) across the crash.
      if (msg.data === 7 || msg.data === 57) await gate;
      handled.add(msg.data);
    }, { concurrency: 4, minIdle: 1000, block: 500, watchdogGrace: 1000 });
    let outages = 0;
    kit.events.on('degraded', () => outages++);
    const ran = new Set<number>();
    const worker = q.process((task) => {
      ran.add(task.payload);
    }, { concurrency: 4, lease: 1000, maxBlock: 500, watchdogGrace: 1000 });

    const total = 300;
    const acknowledged: number[] = [];
    const entryIds = new Map<number, string>();
    let restarted = false;
    const producer = (async () => {
      for (let i = 0; i < total; i++) {
        entryIds.set(i, (await untilAccepted(() => s.publish(i, { id: `order-${i}` }))).id);
        await untilAccepted(() => q.schedule(i, { id: `reminder-${i}`, delay: (i % 10) * 50 }));
        acknowledged.push(i);
      }
    })();
    await waitFor('a third published', async () => acknowledged.length >= total / 3);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 200));
    await redis.restart();
    restarted = true;
    await waitFor('the context to reconnect', async () => kit.state === 'ready');
    // The two held entries are still pending in the group after the crash.
    const pending = (await kit.redis.xpending(s.keys.stream, 'billing', '-', '+', 100)) as Array<[string]>;
    expect(pending.map(([id]) => id)).toEqual(expect.arrayContaining([entryIds.get(7), entryIds.get(57)]));
    release();
    await producer;
    expect(restarted).toBe(true);
    expect(outages).toBeGreaterThan(0);

    await waitFor('every acknowledged entry handled', async () => acknowledged.every((i) => handled.has(i)), 60_000);
    await waitFor('every scheduled task run', async () => acknowledged.every((i) => ran.has(i)), 60_000);
    await waitFor('nothing pending', async () => Number(((await kit.redis.xpending(s.keys.stream, 'billing')) as [number])[0]) === 0);
    // Producer retries after the outage deduplicated: one entry per event.
    expect(await s.length()).toBe(total);
    await waitFor('the queue to drain', async () => {
      const st = await q.stats();
      return st.scheduled === 0 && st.active === 0;
    });
    expect(await q.stats()).toEqual({ scheduled: 0, due: 0, active: 0, dead: 0 });
    await consumer.close();
    await worker.close();
  });

  it('producers fail closed with a coded error while Redis is down, and recover by themselves', async () => {
    const s = createStreams(kit).stream<number>('closed');
    const q = createTasks(kit).queue<number>('closed');
    const failures: Array<{ feature: string; operation: string; policy: string; code: string }> = [];
    const recoveries: string[] = [];
    kit.events.on('store-error', (p) => failures.push({ feature: p.feature, operation: p.operation, policy: p.policy, code: p.error.code }));
    kit.events.on('recovered', (p) => recoveries.push(p.feature));
    await redis.kill();
    try {
      await waitFor('the context to notice', async () => kit.state !== 'ready');
      await expect(s.publish(1)).rejects.toMatchObject({ code: 'ERR_REDISKIT_UNAVAILABLE' });
      await expect(q.schedule(1)).rejects.toMatchObject({ code: 'ERR_REDISKIT_UNAVAILABLE' });
    } finally {
      await redis.restart();
    }
    expect(failures).toEqual([
      { feature: 'streams', operation: 'publish', policy: 'closed', code: 'ERR_REDISKIT_UNAVAILABLE' },
      { feature: 'tasks', operation: 'schedule', policy: 'closed', code: 'ERR_REDISKIT_UNAVAILABLE' },
    ]);
    await waitFor('the context to reconnect', async () => kit.state === 'ready');
    expect((await s.publish(2)).duplicate).toBe(false);
    expect((await q.schedule(2)).created).toBe(true);
    expect(recoveries).toEqual(expect.arrayContaining(['streams', 'tasks']));
  });
});
