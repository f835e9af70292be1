import { randomBytes } from 'node:crypto';
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
    const W = 300;
    const l = limiter({ algorithm, limit: 2, window: W });
    const ds = await run(l, 'k', 3);
    const { state } = l.keysFor('k');
    // The key's end, on the Redis clock, measured from the last decision: at
    // most one window (two for a sliding window, whose count weighs in the next).
    const expiresAt = Number(await kit.redis.call('PEXPIRETIME', state[0]!));
    const last = Math.floor(ds[2]!.timeUs! / 1000);
    expect(expiresAt === -2 || (expiresAt > last && expiresAt - last <= (algorithm === 'sliding-window' ? 2 * W : W))).toBe(true);
    await waitFor('the key to expire', async () => (await kit.redis.exists(state[0]!)) === 0, 5000);
  });
});

describe('refunds', () => {
  it.each(['fixed-window', 'sliding-window'] as const)('%s: change nothing once the charged window is over', async (algorithm) => {
    const W = 250;
    const l = limiter({ algorithm, limit: 3, window: W });
    const old = await l.consume('k');
    // Wait out the charged window (for the sliding window, also the next one, where it still weighs).
    const over = (Math.floor(old.timeUs! / 1000 / W) + (algorithm === 'sliding-window' ? 2 : 1)) * W;
    await waitFor('the window to end', async () => (await kit.time()) >= Math.max(over, Math.floor(old.timeUs! / 1000) + W), 5000, 10);
    const fresh = await l.consume('k');
    expect(fresh.policies[0]!.remaining).toBe(2);
    expect(await l.refund(old)).toBe(false);
    expect((await l.get('k', { cost: 0 })).policies[0]!.remaining).toBe(2);
    expect(await l.refund(fresh)).toBe(true);
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

describe('concurrency', () => {
  it('admits up to the limit in flight and frees a slot on release, once', async () => {
    const l = limiter({ algorithm: 'concurrency', limit: 2 });
    const a = await l.consume('k');
    const b = await l.consume('k');
    const c = await l.consume('k');
    expect([a.allowed, b.allowed, c.allowed]).toEqual([true, true, false]);
    expect(b.policies[0]!.remaining).toBe(0);
    expect(c.retryAfterMs).toBe(1000);
    expect(await l.release(a)).toBe(true);
    expect(await l.release(a)).toBe(false);
    expect((await l.consume('k')).allowed).toBe(true);
    await l.release(b);
  });

  it('keeps a lease alive while its work goes on, past the lease time to live', async () => {
    const l = limiter({ algorithm: 'concurrency', limit: 1, leaseTtl: 1000 });
    const held = await l.consume('k');
    const since = await kit.time();
    await waitFor('Redis time to pass two lease lifetimes', async () => (await kit.time()) > since + 2200, 10_000, 20);
    expect((await l.consume('k')).allowed).toBe(false);
    await l.release(held);
    expect((await l.consume('k')).allowed).toBe(true);
  });
});

describe('blocks', () => {
  it('blocks a client after a rejection, without Redis calls while the block lasts, never longer than Redis', async () => {
    const l = limiter({ algorithm: 'fixed-window', limit: 2, window: DAY, blockDuration: 2000 });
    const ds = await run(l, 'k', 4);
    expect(ds.map((d) => d.allowed)).toEqual([true, true, false, false]);
    expect(ds[2]!.source).toBe('redis');
    expect(ds[2]!.retryAfterMs).toBeGreaterThanOrEqual(2000);
    expect(ds[3]!.source).toBe('block-cache');
    expect(l.stats().blockCacheHits).toBe(1);
    // Quota back, but the block holds until it ends in Redis...
    await l.reward('k', 2);
    const blockKey = l.keysFor('k').block[0]!;
    expect((await l.consume('k')).allowed).toBe(false);
    await waitFor('the block to end in Redis', async () => (await kit.redis.exists(blockKey)) === 0, 5000, 10);
    // ...and not a moment longer here.
    const after = await l.consume('k');
    expect(after.allowed).toBe(true);
    expect(after.source).toBe('redis');
  });

  it('a rejected client is not locked out: rejections are not counted by default', async () => {
    const l = limiter({ algorithm: 'gcra', limit: 2, window: 400 });
    const first = await run(l, 'k', 2);
    for (let i = 0; i < 30; i++) expect((await l.consume('k')).allowed).toBe(false);
    // 30 rejections later the client passes as soon as the rate allows.
    const freeAt = Math.floor(first[0]!.timeUs! / 1000) + 400;
    await waitFor('the rate to allow one more', async () => (await kit.time()) > freeAt + 1, 5000, 10);
    expect((await l.consume('k')).allowed).toBe(true);
  });

  it('charges rejected requests too in penalty mode (countRejected)', async () => {
    const l = limiter({ algorithm: 'fixed-window', limit: 3, window: DAY, countRejected: true });
    await run(l, 'k', 5);
    await l.reward('k', 1);
    // Five charged, one given back: still over the limit.
    expect((await l.consume('k')).allowed).toBe(false);
  });
});

describe('shadow mode', () => {
  it('rejects nothing, and counts and reports would-be rejections', async () => {
    const l = limiter({ algorithm: 'sliding-window', limit: 2, window: DAY, shadow: true });
    const seen: Array<{ shadow: boolean; policies: string[] }> = [];
    const off = kit.events.onAny((name, payload) => {
      if (name === 'ratelimit:limited') {
        const p = payload as { shadow: boolean; policies: string[]; limiter: string };
        if (p.limiter === l.name) seen.push({ shadow: p.shadow, policies: p.policies });
      }
    });
    const ds = await run(l, 'k', 4);
    off();
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, true]);
    expect(ds.map((d) => d.limited)).toEqual([false, false, true, true]);
    expect(l.stats()).toMatchObject({ allowed: 2, shadowLimited: 2, limited: 0 });
    expect(seen).toEqual([
      { shadow: true, policies: ['default'] },
      { shadow: true, policies: ['default'] },
    ]);
    // Would-be rejections charged nothing, as real ones would not.
    expect((await l.get('k', { cost: 0 })).policies[0]!.remaining).toBe(0);
  });
});

describe('events', () => {
  it('emit allowed, limited and near-limit with the policy names', async () => {
    const l = limiter({
      policies: [
        { name: 'fast', algorithm: 'token-bucket', limit: 10, window: DAY },
        { name: 'slow', algorithm: 'fixed-window', limit: 4, window: DAY },
      ],
      nearLimitRatio: 0.25,
    });
    const events: Array<[string, unknown]> = [];
    const off = kit.events.onAny((name, payload) => {
      if (name.startsWith('ratelimit:') && (payload as { limiter?: string }).limiter === l.name) {
        const { limiter: _l, key: _k, ...rest } = payload as Record<string, unknown>;
        events.push([name, rest]);
      }
    });
    await run(l, 'user-1', 5);
    off();
    expect(events).toEqual([
      ['ratelimit:allowed', { policies: ['fast', 'slow'], cost: 1, source: 'redis' }],
      ['ratelimit:allowed', { policies: ['fast', 'slow'], cost: 1, source: 'redis' }],
      ['ratelimit:allowed', { policies: ['fast', 'slow'], cost: 1, source: 'redis' }],
      ['ratelimit:near-limit', { policy: 'slow', remaining: 1, limit: 4 }],
      ['ratelimit:allowed', { policies: ['fast', 'slow'], cost: 1, source: 'redis' }],
      ['ratelimit:limited', { policies: ['slow'], cost: 1, retryAfterMs: expect.any(Number), shadow: false, source: 'redis' }],
    ]);
  });
});

describe('keys', () => {
  it('keep every key of a decision in one hash slot, also for per-policy identities', async () => {
    const l = limiter({
      hashTag: 'limiter',
      policies: [
        { name: 'per-ip', algorithm: 'fixed-window', limit: 2, window: DAY },
        { name: 'per-user', algorithm: 'fixed-window', limit: 3, window: DAY, blockDuration: 1000 },
      ],
    });
    const k = l.keysFor({ 'per-ip': '10.0.0.1', 'per-user': 'a{l}i:ce*' });
    const tags = [...k.state, ...k.block].map((key) => key.slice(key.indexOf('{'), key.indexOf('}') + 1));
    expect(new Set(tags).size).toBe(1);
    // One user over two IPs shares its per-user count.
    await l.consume({ 'per-ip': '10.0.0.1', 'per-user': 'alice' });
    await l.consume({ 'per-ip': '10.0.0.1', 'per-user': 'alice' });
    const third = await l.consume({ 'per-ip': '10.0.0.2', 'per-user': 'alice' });
    expect(third.policies.map((p) => p.remaining)).toEqual([1, 0]);
    expect((await l.consume({ 'per-ip': '10.0.0.3', 'per-user': 'alice' })).violated).toEqual(['per-user']);
  });

  it('keep a fixed-window or GCRA key of one IPv4 client at most 100 bytes in Redis', async () => {
    // The size the docs quote: prefix 'rk', a route limiter, an IPv4 client (MEMORY USAGE counts the key name).
    const small = createRedisKit({ url: await sharedRedisUrl(), prefix: 'rk', logger: false, operationTimeout: 2000 });
    try {
      await small.ready();
      const route = `GET /api/${randomBytes(3).toString('hex')}/:id`;
      for (const algorithm of ['fixed-window', 'gcra'] as const) {
        const l = new RateLimiter(small, { name: route, policies: [{ name: 'default', algorithm, limit: 100, window: 60_000 }] });
        expect((await l.consume('203.0.113.7')).source).toBe('redis');
        const [key] = l.keysFor('203.0.113.7').state;
        expect(await small.redis.memory('USAGE', key!, 'SAMPLES', '0')).toBeLessThanOrEqual(100);
        await l.reset('203.0.113.7');
      }
    } finally {
      await small.close();
    }
  });

  it('give every policy and algorithm its own state key, and every policy its own block key', () => {
    const keys = (policies: RateLimiterOptions['policies']) => limiter({ name: 'same', policies }).keysFor('c');
    const one = keys([{ name: 'default', algorithm: 'fixed-window', limit: 1, window: DAY, blockDuration: 1 }]);
    const other = keys([{ name: 'default', algorithm: 'gcra', limit: 1, window: DAY }]);
    const longer = keys([{ name: 'defaults', algorithm: 'fixed-window', limit: 1, window: DAY }]);
    const two = keys([{ name: 'f', algorithm: 'fixed-window', limit: 1, window: DAY }, { name: 'b', algorithm: 'fixed-window', limit: 1, window: DAY }]);
    const all = [...one.state, ...other.state, ...longer.state, ...two.state, ...one.block, ...longer.block, ...two.block];
    expect(new Set(all).size).toBe(all.length);
    // A block belongs to the policy name, whatever its algorithm (as before).
    expect(other.block).toEqual(one.block);
    // Same limiter name and policy: the same counter, whatever else the limiter has.
    expect(keys([{ name: 'default', algorithm: 'gcra', limit: 1, window: DAY }]).state[0]).toBe(
      keys([{ name: 'default', algorithm: 'gcra', limit: 5, window: 1000 }, { name: 'x', limit: 1, window: DAY }]).state[0],
    );
  });

  it('bound and escape user-supplied parts', () => {
    const l = limiter({ limit: 1, window: DAY });
    const long = 'x'.repeat(5000);
    const [key] = l.keysFor(long).state;
    expect(key!.length).toBeLessThan(400);
    const [evil] = l.keysFor('}{other}*').state;
    expect(evil!.indexOf('}')).toBe(evil!.lastIndexOf('}'));
  });
});
