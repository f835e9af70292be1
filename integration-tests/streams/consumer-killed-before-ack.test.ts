import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createRedisKit, createStreams, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { once } from 'node:events';
import { bundleWorker, startWorker } from '../harness';

let kit: RedisKit;
let url: string;
beforeAll(async () => {
  url = await sharedRedisUrl();
  kit = createRedisKit({ url, prefix: uniquePrefix('killed'), logger: false });
  await kit.ready();
});
afterAll(() => kit.close());

it('a consumer killed before ack: another consumer gets the entry after minIdle with delivery count 2, acked once', async () => {
  const file = await bundleWorker(new URL('./__fixtures__/stream-worker.ts', import.meta.url));
  const streams = createStreams(kit);
  const s = streams.stream<{ order: string }>('orders');
  const child = startWorker(file, { url, prefix: kit.keys.prefix, stream: 'orders', group: 'billing', mode: 'hang', minIdle: 500 });
  const exited = once(child, 'exit');
  try {
    const got = new Promise<{ id: string; deliveries: number; consumer: string }>((resolve) => {
      child.on('message', (m: { id?: string; deliveries: number; consumer: string }) => {
        if (m.id) resolve(m as { id: string; deliveries: number; consumer: string });
      });
    });
    const { id } = await s.publish({ order: 'o-1' });
    const first = await got;
    expect(first).toMatchObject({ id, deliveries: 1 });
    child.kill('SIGKILL');
    await exited;

    const acked: string[] = [];
    kit.events.on('streams:acked', (p) => {
      if (p.stream === 'orders') acked.push(p.id);
    });
    const seen: Array<{ id: string; deliveries: number; consumer: string }> = [];
    const survivor = s.consume('billing', (msg) => {
      seen.push({ id: msg.id, deliveries: msg.deliveries, consumer: msg.consumer });
    }, { minIdle: 500, name: 'survivor' });
    try {
      await waitFor('the entry to be taken over', async () => acked.length === 1);
      expect(seen).toEqual([{ id, deliveries: 2, consumer: 'survivor' }]);
      expect(acked).toEqual([id]);
      expect(((await kit.redis.xpending(s.keys.stream, 'billing')) as [number])[0]).toBe(0);
      expect(first.consumer).not.toBe('survivor');
    } finally {
      await survivor.close();
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
