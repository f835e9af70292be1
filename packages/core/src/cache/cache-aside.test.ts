import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createRedisKit, type RedisKit } from '../redis/redis-kit';
import { createCache, RedisCache } from './cache';
import { sharedRedisUrl, startRedis, uniquePrefix } from '@rediskit/testing';

describe('cache-aside', () => {
  let kit: RedisKit;
  let cache: RedisCache;
  beforeAll(async () => {
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('aside'), operationTimeout: 2000, logger: false });
    await kit.ready();
    cache = createCache(kit, { defaults: { ttl: 60_000 } });
  });
  afterAll(async () => {
    await cache.idle();
    await kit.close();
  });

  it('get/set/delete JSON values and Buffers byte for byte', async () => {
    const bytes = randomBytes(4096);
    expect(await cache.set('json', { a: [1, 'two', null] })).toBe(true);
    expect(await cache.set('bin', bytes)).toBe(true);
    expect(await cache.get('json')).toEqual({ a: [1, 'two', null] });
    expect((await cache.get<Buffer>('bin'))!.equals(bytes)).toBe(true);
    await cache.delete('json');
    expect(await cache.get('json')).toBeUndefined();
    expect(await cache.get('never-set')).toBeUndefined();
  });

  it('wrap calls fn once for 100 concurrent callers in the process and once across instances', async () => {
    let calls = 0;
    const fn = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 100));
      return { calls };
    };
    const other = createRedisKit({ url: await sharedRedisUrl(), prefix: kit.keys.prefix, operationTimeout: 2000, logger: false });
    await other.ready();
    try {
      const otherCache = createCache(other, { defaults: { ttl: 60_000 } });
      const results = await Promise.all([
        ...Array.from({ length: 100 }, () => cache.wrap('hot', fn)),
        ...Array.from({ length: 20 }, () => otherCache.wrap('hot', fn)),
      ]);
      expect(calls).toBe(1);
      expect(results.every((r) => r.calls === 1)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('wrap stores with tags, and a purge makes the next call run fn again', async () => {
    let n = 0;
    const fn = () => ++n;
    expect(await cache.wrap('tagged', fn, { tags: ['t'] })).toBe(1);
    expect(await cache.wrap('tagged', fn, { tags: ['t'] })).toBe(1);
    await cache.purgeTags(['t']);
    expect(await cache.wrap('tagged', fn, { tags: ['t'] })).toBe(2);
  });

  it('wrap returns a stale value at once and refreshes it once in the background', async () => {
    let n = 0;
    const fn = async () => ++n;
    await cache.wrap('swr', fn, { ttl: 100, staleWhileRevalidate: 60_000 });
    await new Promise((r) => setTimeout(r, 200));
    const values = await Promise.all(Array.from({ length: 10 }, () => cache.wrap('swr', fn, { ttl: 100, staleWhileRevalidate: 60_000 })));
    expect(values).toEqual(Array(10).fill(1));
    await cache.idle();
    expect(n).toBe(2);
    expect(await cache.get('swr')).toBe(2);
  });

  it('wrap returns the stale value when fn throws within stale-if-error, and rethrows after it', async () => {
    await cache.wrap('sie', () => 'good', { ttl: 100, staleIfError: 60_000 });
    await new Promise((r) => setTimeout(r, 200));
    expect(await cache.wrap('sie', () => Promise.reject(new Error('down')), { ttl: 100, staleIfError: 60_000 })).toBe('good');
    await expect(cache.wrap('sie-none', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  });

  it('refreshes a hot key early (XFetch), so hits never turn into misses at expiry', async () => {
    const early = createCache(kit, { beta: 50, defaults: { ttl: 1500 } });
    let n = 0;
    const fn = async () => {
      await new Promise((r) => setTimeout(r, 20));
      return ++n;
    };
    const refreshes: string[] = [];
    const misses: string[] = [];
    kit.events.on('cache:refresh', ({ reason }) => refreshes.push(reason));
    kit.events.on('cache:miss', ({ key }) => misses.push(key));
    await early.wrap('xfetch', fn);
    for (let i = 0; i < 40 && refreshes.length === 0; i++) {
      await early.wrap('xfetch', fn);
      await new Promise((r) => setTimeout(r, 25));
    }
    await early.idle();
    expect(refreshes).toContain('early');
    expect(misses.filter((k) => k === 'xfetch')).toHaveLength(1);
    createCache(kit, { defaults: { ttl: 60_000 } });
  });

  it('rejects bad tags and options with coded errors', async () => {
    await expect(cache.purgeTags([''])).rejects.toMatchObject({ code: 'ERR_REDISKIT_CACHE_TAG' });
    await expect(cache.purgeTags(['a\nb'])).rejects.toMatchObject({ code: 'ERR_REDISKIT_CACHE_TAG' });
    await expect(cache.wrap('k', () => 1, { ttl: -1 })).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_OPTION' });
    await expect(cache.wrap('k', () => 1, { tll: 5 } as never)).rejects.toMatchObject({ code: 'ERR_REDISKIT_UNKNOWN_OPTION' });
    const noTtl = createCache(kit);
    await expect(noTtl.set('k', 1)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_OPTION' });
    createCache(kit, { defaults: { ttl: 60_000 } });
  });

  it('never stores a value JSON cannot hold', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(await cache.set('circular', circular)).toBe(false);
    expect(await cache.wrap('undef', () => undefined)).toBeUndefined();
    expect(await cache.get('undef')).toBeUndefined();
  });
});

describe('cache-aside with Redis down', () => {
  it('calls fn (fail open), and purge and delete reject', async () => {
    const redis = await startRedis();
    const kit = createRedisKit({ url: redis.url, prefix: 'down', operationTimeout: 200, logger: false });
    await kit.ready();
    const cache = createCache(kit, { defaults: { ttl: 60_000 } });
    const errors: string[] = [];
    kit.events.on('cache:error', ({ operation }) => errors.push(operation));
    await redis.kill();
    try {
      expect(await cache.wrap('k', () => 'origin')).toBe('origin');
      expect(await cache.get('k')).toBeUndefined();
      expect(await cache.set('k', 1)).toBe(false);
      await expect(cache.purgeTags('t')).rejects.toMatchObject({ code: 'ERR_REDISKIT_CACHE_PURGE' });
      await expect(cache.delete('k')).rejects.toMatchObject({ code: 'ERR_REDISKIT_UNAVAILABLE' });
      expect(errors).toEqual(expect.arrayContaining(['lookup', 'purge']));
      const closed = createCache(kit, { failPolicy: 'closed', defaults: { ttl: 60_000 } });
      await expect(closed.wrap('k', () => 'origin')).rejects.toMatchObject({ code: 'ERR_REDISKIT_UNAVAILABLE' });
    } finally {
      await kit.close();
      await redis.stop();
    }
  });
});
