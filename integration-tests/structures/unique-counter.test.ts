import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createUniqueCounter, type RedisKit } from '@rediskit/core';
import { nextPeriod, sharedKit } from './helpers';

const range = (label: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${label}-${from + i}`);

describe('UniqueCounter', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = await sharedKit('uniques');
  });
  afterAll(() => kit.close());

  it('estimates sets of 100k distinct members within the standard error of 0.81%', async () => {
    const u = createUniqueCounter(kit, { name: 'big', ttl: 600_000 });
    const n = 100_000;
    const batch = 5000;
    const sets = 10;
    const errors: number[] = [];
    for (let s = 0; s < sets; s++) {
      // 20 script calls in flight at once (pipelined on one connection), 5000 members each.
      const adds = await Promise.all(
        Array.from({ length: n / batch }, (_, b) => u.add(`set${s}`, range(`set${s}-visitor`, b * batch, (b + 1) * batch))),
      );
      expect(adds.every((a) => a?.changed === true && a.period === null)).toBe(true);
      errors.push(((await u.count(`set${s}`)) - n) / n);
    }
    // The standard error is the root-mean-square relative error of the
    // estimator, so that is what is compared with 0.81%; one set alone lands
    // beyond one standard error about a third of the time, and beyond three
    // (2.43%) about 0.3% of the time. Member names are fixed, so the
    // estimates are reproducible run to run (Redis hashes with a fixed seed).
    const rms = Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / sets);
    expect(rms).toBeLessThanOrEqual(0.0081);
    for (const e of errors) expect(Math.abs(e)).toBeLessThanOrEqual(3 * 0.0081);

    // Members already counted change nothing.
    const before = await u.count('set0');
    expect(await u.add('set0', range('set0-visitor', 0, 5000))).toEqual({ changed: false, period: null });
    expect(await u.count('set0')).toBe(before);
    expect(await kit.redis.pttl(u.key('set0'))).toBeGreaterThan(0);
    // Dense HyperLogLog: 12 KB of registers plus a 16-byte header, whatever the count.
    expect(await kit.redis.strlen(u.key('set0'))).toBe(12_304);
    await kit.redis.del(...Array.from({ length: sets }, (_, s) => u.key(`set${s}`)));
  });

  it('counts per period by the Redis clock and merges periods, counting a member seen in several once', async () => {
    const period = 1000;
    const u = createUniqueCounter(kit, { name: 'per-period', period, retain: 3 });
    const seen = new Map<string, Set<string>>();
    const add = async (members: string[]) => {
      const r = (await u.add('page', members))!;
      const set = seen.get(r.period!) ?? new Set<string>();
      for (const m of members) set.add(m);
      seen.set(r.period!, set);
      return r;
    };
    await add(range('a', 0, 300));
    let at = (await u.read('page')).at;
    await nextPeriod(kit, period, at);
    await add([...range('b', 0, 300), ...range('a', 0, 100)]);
    at = (await u.read('page')).at;
    await nextPeriod(kit, period, at);
    await add(range('c', 0, 200));
    expect(seen.size).toBe(3);

    for (const periods of [1, 2, 3]) {
      const r = await u.read('page', { periods });
      expect(r.periods).toHaveLength(periods);
      const exact = new Set<string>();
      for (const label of r.periods) for (const m of seen.get(label) ?? []) exact.add(m);
      expect(Math.abs(r.count - exact.size)).toBeLessThanOrEqual(Math.ceil(0.0081 * exact.size));
    }
    await expect(u.count('page', { periods: 4 })).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });

    // Each period's key expires when it leaves the retained periods: at a period boundary.
    const last = [...seen.keys()].sort().at(-1)!;
    const expiresAt = await kit.redis.pexpiretime(u.key('page', last));
    expect(expiresAt % period).toBe(0);
    expect(expiresAt).toBeGreaterThan(at);
    expect(expiresAt).toBeLessThanOrEqual(at + 4 * period);

    await u.reset('page');
    expect(await u.count('page', { periods: 3 })).toBe(0);
  });

  it('labels days in UTC from the Redis clock', async () => {
    const u = createUniqueCounter(kit, { name: 'days', period: 'day', retain: 7 });
    const added = await u.add('home', 'someone');
    const r = await u.read('home', { periods: 2 });
    expect(r.periods[0]).toBe(new Date(r.at).toISOString().slice(0, 10));
    expect(r.periods[1]).toBe(new Date(r.at - 86_400_000).toISOString().slice(0, 10));
    expect([r.periods[0], r.periods[1]]).toContain(added!.period);
    expect(r.count).toBe(1);
  });

  it('a wrong app server clock costs one retry, never a wrong period', async () => {
    // A fresh context has not learnt the Redis clock yet.
    const skewed = await sharedKit('uniques-skew');
    const events: number[] = [];
    skewed.events.on('structures:clock-skew', ({ skewMs }) => events.push(skewMs));
    const realNow = Date.now.bind(Date);
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 3 * 86_400_000);
    try {
      const u = createUniqueCounter(skewed, { name: 'skew', period: 'day', retain: 2 });
      const added = await u.add('home', 'x');
      const r = await u.read('home');
      expect(added!.period).toBe(new Date(r.at).toISOString().slice(0, 10));
      expect(r.count).toBe(1);
    } finally {
      spy.mockRestore();
      await skewed.close();
    }
    expect(events).toHaveLength(1);
    expect(events[0]).toBeLessThan(-2 * 86_400_000);
  });

  it('rejects bad options and arguments with codes', async () => {
    const bad = (options: object) => () => createUniqueCounter(kit, { name: 'u', ...options } as never);
    expect(bad({ period: 'month' })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(bad({ period: 10 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(bad({ period: 'day', ttl: 1000 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(bad({ retain: 3 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(bad({ period: 'day', retain: 0 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    const u = createUniqueCounter(kit, { name: 'args' });
    await expect(u.add('x', [])).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(u.add('x', [{} as never])).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(u.count('x', { periods: 2 })).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
  });
});
