import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCounter, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { Redis } from 'ioredis';
import { bundleWorker, runWorkers } from '../harness';
import { sharedKit } from './helpers';

describe('Counter', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = await sharedKit('counter');
  });
  afterAll(() => kit.close());

  it('increments, decrements, reads and resets', async () => {
    const c = createCounter(kit, { name: 'basic' });
    expect(await c.get('a')).toBe(0);
    expect(await c.incr('a')).toBe(1);
    expect(await c.incr('a', 5)).toBe(6);
    expect(await c.decr('a', 2)).toBe(4);
    expect(await c.decr('b')).toBe(-1);
    expect(await c.get('a')).toBe(4);
    expect(await c.get('b')).toBe(-1);
    expect(await c.reset('a')).toBe(4);
    expect(await c.get('a')).toBe(0);
    expect(await kit.redis.exists(c.key('a'))).toBe(0);
    // Ids are escaped: these are three different counters.
    await c.incr('x:y');
    await c.incr('x');
    await c.incr('{x}');
    expect([await c.get('x:y'), await c.get('x'), await c.get('{x}')]).toEqual([1, 1, 1]);
  });

  it('without ttl the key persists; with ttl every write leaves a TTL on it', async () => {
    const plain = createCounter(kit, { name: 'plain' });
    await plain.incr('k');
    expect(await kit.redis.pttl(plain.key('k'))).toBe(-1);

    const ttl = createCounter(kit, { name: 'ttl', ttl: 60_000 });
    await ttl.incr('k');
    await ttl.decr('k');
    const left = await kit.redis.pttl(ttl.key('k'));
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(60_000);
  });

  it('fixed TTL stays where the first write put it; sliding TTL moves with every write', async () => {
    const fixed = createCounter(kit, { name: 'fixed', ttl: 60_000, ttlMode: 'fixed' });
    const sliding = createCounter(kit, { name: 'sliding', ttl: 60_000, ttlMode: 'sliding' });
    await fixed.incr('k');
    await sliding.incr('k');
    const fixedAt = await kit.redis.pexpiretime(fixed.key('k'));
    const slidingAt = await kit.redis.pexpiretime(sliding.key('k'));
    const t0 = await kit.time();
    await waitFor('the Redis clock to move', async () => (await kit.time()) > t0 + 2);
    await fixed.incr('k');
    await sliding.incr('k');
    expect(await kit.redis.pexpiretime(fixed.key('k'))).toBe(fixedAt);
    expect(await kit.redis.pexpiretime(sliding.key('k'))).toBeGreaterThan(slidingAt);
  });

  it('is exact under 4-process contention: every increment gets a distinct value, none lost', async () => {
    const file = await bundleWorker(new URL('./__fixtures__/counter-worker.ts', import.meta.url));
    const url = await sharedRedisUrl();
    const prefix = uniquePrefix('counter-contention');
    const times = 250;
    const results = await runWorkers<{ index: number; seen: number[] }>(file, 4, { url, prefix, times });
    const all = results.flatMap((r) => r.seen).sort((a, b) => a - b);
    // 1000 increments answered 1..1000, each exactly once: no lost update, no double count.
    expect(all).toEqual(Array.from({ length: 4 * times }, (_, i) => i + 1));

    const redis = new Redis(url);
    try {
      const reader = createCounter(kit, { name: 'contended' });
      const hitsKey = reader.key('hits').replace(kit.keys.prefix, prefix);
      const stockKey = reader.key('stock').replace(kit.keys.prefix, prefix);
      expect(await redis.get(hitsKey)).toBe(String(4 * times));
      expect(await redis.get(stockKey)).toBe(String(-2 * 4 * times));
      expect(await redis.pttl(hitsKey)).toBeGreaterThan(0);
      await redis.del(hitsKey, stockKey);
    } finally {
      redis.disconnect();
    }
  });

  it('rejects bad options at construction and bad arguments per call, with codes', async () => {
    expect(() => createCounter(kit, {} as never)).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(() => createCounter(kit, { name: 'x', tll: 5 } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_UNKNOWN_OPTION', message: expect.stringContaining('did you mean "ttl"') }),
    );
    expect(() => createCounter(kit, { name: 'x', ttl: 0 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(() => createCounter(kit, { name: 'x', ttlMode: 'forever' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }),
    );
    expect(() => createCounter(kit, { name: 'x', failPolicy: 'maybe' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }),
    );
    const c = createCounter(kit, { name: 'args' });
    await expect(c.incr('a', 1.5)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(c.incr('a', -1)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(c.incr('', 1)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    expect(await c.get('a')).toBe(0);
  });
});
