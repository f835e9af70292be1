import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createLockManager,
  createRedisKit,
  isRedisKitError,
  type RedisKit,
  type RedisKitEventMap,
  type RedisKitOptions,
} from '@rediskit/core';
import { startRedis, uniquePrefix, waitFor, type StartedRedis } from '@rediskit/testing';
import { Redis } from 'ioredis';

// Faults need their own server: these tests pause, freeze and kill it.

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (error) {
    return isRedisKitError(error) ? error.code : `not coded: ${String(error)}`;
  }
}

function record<K extends keyof RedisKitEventMap>(kit: RedisKit, name: K): Array<RedisKitEventMap[K]> {
  const seen: Array<RedisKitEventMap[K]> = [];
  kit.events.on(name, (payload) => seen.push(payload));
  return seen;
}

describe('locks when Redis misbehaves', () => {
  let redis: StartedRedis;
  let admin: Redis;
  const kits: RedisKit[] = [];
  const kitFor = async (options: Partial<RedisKitOptions> = {}) => {
    const kit = createRedisKit({ url: redis.url, prefix: uniquePrefix('lock-fault'), logger: false, ...options });
    kits.push(kit);
    await kit.ready(15_000);
    return kit;
  };

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url, { lazyConnect: true });
    await admin.connect();
  });
  afterEach(async () => {
    redis.process.resume();
    await Promise.all(kits.splice(0).map((k) => k.close()));
  });
  afterAll(async () => {
    admin.disconnect();
    await redis.stop();
  });

  it('an acquire whose reply was lost recognises its own token on retry instead of blocking itself', async () => {
    // The first attempt reaches a frozen server; the context times out, gives
    // up on the connection and drops it. When the server wakes it runs the
    // script it had already received (taking the lock for this owner) and the
    // reply goes nowhere. The retry, on a new connection, must find its own
    // token: without that it would wait out the 60 s ttl and fail as contended.
    const kit = await kitFor({ operationTimeout: 300, degradeAfterTimeouts: 1, healthCheckInterval: 50 });
    const acquired = record(kit, 'lock:acquired');
    const locks = createLockManager(kit, { ttl: 60_000 });
    redis.process.pause();
    const pending = locks.acquire('report', { timeout: 15_000, retry: { delay: 50, maxDelay: 200 } });
    await waitFor('the context to drop the connection to the frozen server', async () => kit.state === 'degraded');
    redis.process.resume();
    const lock = await pending;

    expect(acquired).toHaveLength(1);
    expect(acquired[0]).toMatchObject({ resources: ['report'], fence: lock.fence, recovered: true });
    expect(acquired[0]!.attempts).toBeGreaterThanOrEqual(2);
    const key = kit.keys.entity('lock', 'report').key();
    expect(await admin.hget(key, 'owner')).toBe(lock.token);
    // The retry refreshed the ttl of the lock the lost attempt took.
    expect(await admin.pttl(key)).toBeGreaterThan(50_000);
    await lock.release();
    expect(await admin.exists(key)).toBe(0);
  });

  it('an acquire that took longer than the ttl counts as failed and is released', async () => {
    // CLIENT PAUSE WRITE holds the script in the server for 2.5 s before it
    // runs, so the grant arrives after its 2 s ttl minus drift is gone.
    const kit = await kitFor({ operationTimeout: 10_000 });
    const locks = createLockManager(kit);
    await admin.call('CLIENT', 'PAUSE', '2500', 'WRITE');
    const error = await locks.tryAcquire('slow', { ttl: 2000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_REDISKIT_UNAVAILABLE', details: { reason: 'slow' } });
    // Released at once, not left to expire: Redis would still hold it for ~2 s.
    expect((await locks.status('slow')).held).toBe(false);

    // With time left, acquire() tries again after the failed attempt.
    const acquired = record(kit, 'lock:acquired');
    await admin.call('CLIENT', 'PAUSE', '2500', 'WRITE');
    const lock = await locks.acquire('slow', { ttl: 2000, timeout: 20_000 });
    expect(acquired[0]!.attempts).toBeGreaterThanOrEqual(2);
    expect(lock.remaining()).toBeGreaterThan(0);
    await lock.release();
  });

  it('Redis stopped mid-run: using() aborts with lock lost, calls fail closed fast, and it recovers by itself', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const kit = await kitFor({ operationTimeout: 500 });
      const storeErrors = record(kit, 'store-error');
      const lost = record(kit, 'lock:lost');
      const locks = createLockManager(kit, { ttl: 2000 });
      const outcome = await locks
        .using('job', async (signal) => {
          await redis.kill();
          await waitFor('the signal to abort', async () => signal.aborted, 20_000, 20);
          throw signal.reason;
        })
        .catch((e: unknown) => e);
      expect(outcome).toMatchObject({ code: 'ERR_REDISKIT_LOCK_LOST', details: { reason: 'unavailable' } });
      expect(lost).toEqual([expect.objectContaining({ resources: ['job'], reason: 'unavailable' })]);

      // Down: every operation refuses (fails closed) instead of waiting.
      expect(await codeOf(locks.tryAcquire('other'))).toBe('ERR_REDISKIT_UNAVAILABLE');
      expect(await codeOf(locks.acquire('other', { timeout: 60_000 }))).toBe('ERR_REDISKIT_UNAVAILABLE');
      expect(await codeOf(locks.using('other', async () => 'never runs'))).toBe('ERR_REDISKIT_UNAVAILABLE');
      expect(storeErrors.length).toBeGreaterThan(0);
      expect(storeErrors.every((e) => e.feature === 'lock' && e.policy === 'closed')).toBe(true);

      await redis.restart();
      await kit.ready(20_000);
      const lock = await locks.acquire('job', { timeout: 10_000 });
      await lock.release();
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('extend and release that get no answer reject with ERR_REDISKIT_UNAVAILABLE; a retried release succeeds', async () => {
    const kit = await kitFor({ operationTimeout: 300, degradeAfterTimeouts: 0 });
    const locks = createLockManager(kit, { ttl: 30_000 });
    const lock = (await locks.tryAcquire('held'))!;
    redis.process.pause();
    expect(await codeOf(lock.extend())).toBe('ERR_REDISKIT_UNAVAILABLE');
    expect(await codeOf(lock.release())).toBe('ERR_REDISKIT_UNAVAILABLE');
    expect(lock.state).toBe('held');
    redis.process.resume();
    // The server ran the release it had received while frozen; the retry
    // finds the lock gone by its own hand and reports success, not "not owner".
    await waitFor('the frozen release to run', async () => (await locks.status('held')).held === false);
    await lock.release();
    expect(lock.state).toBe('released');
    // A lock that expired on its own is still reported as not owned.
    const lapsed = (await locks.tryAcquire('lapsed', { ttl: 100 }))!;
    await waitFor('the lock to expire', async () => (await locks.status('lapsed')).held === false);
    expect(await codeOf(lapsed.release())).toBe('ERR_REDISKIT_LOCK_NOT_OWNER');
  });
});
