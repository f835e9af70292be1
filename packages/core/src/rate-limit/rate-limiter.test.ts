import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { isRedisKitError } from '../errors';
import { createRedisKit, type RedisKit } from '../redis/redis-kit';
import type { RateLimitAlgorithm } from './policy';
import { RateLimiter, type RateLimitDecision, type RateLimiterOptions } from './rate-limiter';

// Counting tests use long windows (minutes to a day), so nothing refills
// while they run however slow the machine is: their outcomes are exact.
// Time-dependent behaviour (refill, retry-after, boundaries) is checked
// against the Redis timestamps each decision reports, never against the
// test's own clock.

let kit: RedisKit;
beforeAll(async () => {
  kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('rl'), logger: false, operationTimeout: 2000 });
  await kit.ready();
});
afterAll(() => kit.close());

let n = 0;
function limiter(options: Omit<RateLimiterOptions, 'name'> & { name?: string }): RateLimiter {
  return new RateLimiter(kit, { name: `t${++n}`, ...options } as RateLimiterOptions);
}

const DAY = 86_400_000;
const RATE_ALGORITHMS: RateLimitAlgorithm[] = ['fixed-window', 'sliding-window', 'token-bucket', 'gcra'];

async function run(l: RateLimiter, key: string, times: number, cost = 1): Promise<RateLimitDecision[]> {
  const out: RateLimitDecision[] = [];
  for (let i = 0; i < times; i++) out.push(await l.consume(key, { cost }));
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isRedisKitError(error) ? error.code : `not coded: ${String(error)}`;
  }
  return undefined;
}

describe.each(RATE_ALGORITHMS)('%s', (algorithm) => {
  it('admits exactly the limit, counts remaining down, and does not charge rejections', async () => {
    const l = limiter({ algorithm, limit: 5, window: DAY });
    const ds = await run(l, 'alice', 8);
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
    expect(ds.slice(0, 5).map((d) => d.policies[0]!.remaining)).toEqual([4, 3, 2, 1, 0]);
    expect(ds[5]!.violated).toEqual(['default']);
    expect(ds[5]!.retryAfterMs).toBeGreaterThan(0);
    // Another key is untouched.
    expect((await l.consume('bob')).policies[0]!.remaining).toBe(4);
    // Rejections changed nothing: a reward of one unit admits exactly one more.
    await l.reward('alice', 1);
    expect((await run(l, 'alice', 2)).map((d) => d.allowed)).toEqual([true, false]);
  });

  it('rejects a cost of 5 with 4 left without charging it', async () => {
    const l = limiter({ algorithm, limit: 10, window: DAY });
    await l.consume('k', { cost: 6 });
    const big = await l.consume('k', { cost: 5 });
    expect(big.allowed).toBe(false);
    expect(big.policies[0]!.remaining).toBe(4);
    const fits = await l.consume('k', { cost: 4 });
    expect(fits.allowed).toBe(true);
    expect(fits.policies[0]!.remaining).toBe(0);
  });

  it('peeks with cost 0 and get(), changing nothing', async () => {
    const l = limiter({ algorithm, limit: 3, window: DAY });
    await l.consume('k');
    const peek = await l.consume('k', { cost: 0 });
    expect(peek.allowed).toBe(true);
    expect(peek.policies[0]!.remaining).toBe(2);
    const got = await l.get('k', { cost: 3 });
    expect(got.limited).toBe(true);
    expect(got.policies[0]!.remaining).toBe(2);
    expect((await l.get('k')).policies[0]!.remaining).toBe(2);
  });

  it('rewards and penalizes, never above capacity', async () => {
    const l = limiter({ algorithm, limit: 4, window: DAY });
    await run(l, 'k', 2);
    await l.reward('k', 10);
    expect((await l.get('k', { cost: 0 })).policies[0]!.remaining).toBe(4);
    const p = await l.penalty('k', 3);
    expect(p.policies[0]!.remaining).toBe(1);
    expect((await run(l, 'k', 2)).map((d) => d.allowed)).toEqual([true, false]);
    await l.reset('k');
    expect((await l.get('k', { cost: 0 })).policies[0]!.remaining).toBe(4);
  });

  it('refunds an admitted request once, never below zero', async () => {
    const l = limiter({ algorithm, limit: 3, window: DAY });
    const first = await l.consume('k');
    await l.consume('k');
    expect(await l.refund(first)).toBe(true);
    expect(await l.refund(first)).toBe(false);
    expect((await l.get('k', { cost: 0 })).policies[0]!.remaining).toBe(2);
    const rejected = (await run(l, 'k', 3))[2]!;
    expect(rejected.allowed).toBe(false);
    expect(await l.refund(rejected)).toBe(false);
  });

  it('leaves no key behind once its window is over', async () => {
    const l = limiter({ algorithm, limit: 2, window: 300 });
    await run(l, 'k', 3);
    const { state } = l.keysFor('k');
    const ttl = await kit.redis.pttl(state[0]!);
    expect(ttl).toBeGreaterThan(0);
    // A sliding window keeps its counts while they still weigh: two windows.
    expect(ttl).toBeLessThanOrEqual(algorithm === 'sliding-window' ? 600 : 300);
    await waitFor('the key to expire', async () => (await kit.redis.exists(state[0]!)) === 0, 5000);
  });
});

describe('several policies', () => {
  it('decide all or nothing: when one rejects, none is charged', async () => {
    const l = limiter({
      policies: [
        { name: 'short', algorithm: 'fixed-window', limit: 3, window: DAY },
        { name: 'long', algorithm: 'sliding-window', limit: 5, window: DAY },
        { name: 'bucket', algorithm: 'token-bucket', limit: 10, window: DAY },
        { name: 'cell', algorithm: 'gcra', limit: 10, window: DAY },
      ],
    });
    const ds = await run(l, 'k', 6);
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false, false, false]);
    expect(ds[3]!.violated).toEqual(['short']);
    const state = await l.get('k', { cost: 0 });
    expect(state.policies.map((p) => [p.name, p.remaining])).toEqual([
      ['short', 0],
      ['long', 2],
      ['bucket', 7],
      ['cell', 7],
    ]);
    // Cost rejected by 'long' only: nobody is charged.
    await l.reset('k');
    await l.consume('k', { cost: 3 });
    const d = await l.consume('k', { cost: 3 });
    expect(d.violated).toEqual(['short', 'long']);
    expect((await l.get('k', { cost: 0 })).policies.map((p) => p.remaining)).toEqual([0, 2, 7, 7]);
  });
});

describe('validation', () => {
  it('throws coded errors at construction', () => {
    const make = (o: Record<string, unknown>) => () => new RateLimiter(kit, { name: 'v', ...o } as never);
    expect(codeOf(make({ limit: 0, window: 1000 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(make({ limit: 1, window: 0 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(make({ limit: 1.5, window: 10 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(make({ limit: 1 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(make({ limt: 1, window: 10 }))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(codeOf(make({ algorithm: 'leaky', limit: 1, window: 10 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(make({ algorithm: 'concurrency', limit: 1, window: 10 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(make({ algorithm: 'fixed-window', limit: 1, window: 10, burst: 3 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(make({ policies: [{ limit: 1, window: 10 }, { limit: 1, window: 10 }] }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(make({ policies: [] }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(make({ limit: 1, window: 10, failPolicy: 'maybe' }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(make({ limit: 1, window: 10, policies: [{ limit: 1, window: 10 }] }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(make({ limit: 1, window: 10 }))).toBeUndefined();
  });
});
