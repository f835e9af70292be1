import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startRedis, uniquePrefix, waitFor, type StartedRedis } from '@rediskit/testing';
import { isRedisKitError } from '../errors';
import { createRedisKit, type RedisKit } from '../redis/redis-kit';
import { RateLimiter, type RateLimitDecision } from './rate-limiter';

// Each test stops this Redis mid-run, checks what the fail policy gives, and
// restarts it to see Redis-backed limiting resume by itself.
let redis: StartedRedis;
let kit: RedisKit;
beforeAll(async () => {
  redis = await startRedis();
  kit = createRedisKit({ url: redis.url, prefix: uniquePrefix('rlf'), logger: false, operationTimeout: 500 });
  await kit.ready();
});
afterAll(async () => {
  await kit.close();
  await redis.stop();
});

async function down(): Promise<void> {
  await redis.kill();
  await waitFor('the context to notice', async () => kit.state === 'degraded', 10_000, 10);
}

async function up(): Promise<void> {
  await redis.restart();
  await waitFor('the context to reconnect', async () => kit.state === 'ready', 15_000, 20);
}

let n = 0;
const DAY = 86_400_000;

describe('Redis stopped mid-run', () => {
  it('open: requests pass, each reported once as fail-open; Redis limiting resumes', async () => {
    const l = new RateLimiter(kit, { name: `f${++n}`, limit: 2, window: DAY, failPolicy: 'open' });
    expect((await l.consume('k')).allowed).toBe(true);
    const failOpen: string[] = [];
    const off = kit.events.onAny((name) => {
      if (name === 'ratelimit:fail-open' || name === 'ratelimit:store-error') failOpen.push(name);
    });
    await down();
    const during: RateLimitDecision[] = [];
    for (let i = 0; i < 5; i++) during.push(await l.consume('k'));
    off();
    expect(during.every((d) => d.allowed && d.source === 'fail-open')).toBe(true);
    expect(during[0]!.error?.code).toBe('ERR_REDISKIT_UNAVAILABLE');
    expect(failOpen.filter((e) => e === 'ratelimit:fail-open')).toHaveLength(5);
    expect(l.stats().failOpen).toBe(5);
    await up();
    // The restart lost the data (no persistence): a fresh window, counted in Redis again.
    const after = [await l.consume('k'), await l.consume('k'), await l.consume('k')];
    expect(after.map((d) => [d.allowed, d.source])).toEqual([
      [true, 'redis'],
      [true, 'redis'],
      [false, 'redis'],
    ]);
  });

  it('closed: consume rejects with the coded error, and works again after recovery', async () => {
    const l = new RateLimiter(kit, { name: `f${++n}`, limit: 5, window: DAY, failPolicy: 'closed' });
    await down();
    let code = 'resolved';
    try {
      await l.consume('k');
    } catch (error) {
      code = isRedisKitError(error) ? error.code : String(error);
    }
    expect(code).toBe('ERR_REDISKIT_UNAVAILABLE');
    await up();
    expect((await l.consume('k')).source).toBe('redis');
  });

  it('local: a per-process share of the limit is enforced in memory, then Redis takes over again', async () => {
    const l = new RateLimiter(kit, {
      name: `f${++n}`,
      policies: [
        { name: 'rate', algorithm: 'fixed-window', limit: 6, window: DAY },
        { name: 'inflight', algorithm: 'concurrency', limit: 10 },
      ],
      failPolicy: 'local',
      localShare: 0.5,
    });
    await down();
    const during: RateLimitDecision[] = [];
    for (let i = 0; i < 5; i++) during.push(await l.consume('k'));
    expect(during.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    expect(during.every((d) => d.source === 'local')).toBe(true);
    expect(during[3]!.violated).toEqual(['rate']);
    // Local leases are released locally.
    expect(await l.release(during[0]!)).toBe(true);
    await up();
    const after = await l.consume('k');
    expect(after.source).toBe('redis');
    expect(after.policies[0]!.remaining).toBe(5);
    await l.release(after);
  });

  it('a Redis that stops answering costs at most the timeout, and a late decision counts once', async () => {
    const l = new RateLimiter(kit, { name: `f${++n}`, algorithm: 'fixed-window', limit: 10, window: DAY, failPolicy: 'open' });
    await l.consume('k');
    await l.consume('k');
    redis.process.pause();
    let late: RateLimitDecision;
    try {
      late = await l.consume('k');
    } finally {
      redis.process.resume();
    }
    expect([late.allowed, late.source, late.error?.code]).toEqual([true, 'fail-open', 'ERR_REDISKIT_TIMEOUT']);
    // Redis runs the script it received while frozen, once; nothing re-sends it.
    await waitFor('the late decision to land', async () => (await l.get('k', { cost: 0 })).policies[0]!.remaining <= 7, 10_000, 20);
    // Anything re-sent would run before this read on the same connection.
    expect((await l.get('k', { cost: 0 })).policies[0]!.remaining).toBe(7);
  });

  it('a cached block keeps rejecting with no Redis at all', async () => {
    const l = new RateLimiter(kit, { name: `f${++n}`, limit: 1, window: DAY, blockDuration: 60_000, failPolicy: 'open' });
    await l.consume('k');
    expect((await l.consume('k')).source).toBe('redis');
    await down();
    const blocked = await l.consume('k');
    expect([blocked.allowed, blocked.source]).toEqual([false, 'block-cache']);
    expect(blocked.retryAfterMs).toBeGreaterThan(50_000);
    await up();
  });
});
