import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createBitmapFlags, type RedisKit } from '@rediskit/core';
import { nextPeriod, sharedKit } from './helpers';

describe('BitmapFlags', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = await sharedKit('flags');
  });
  afterAll(() => kit.close());

  it('sets, reads, clears and counts flags by numeric id', async () => {
    const f = createBitmapFlags(kit, { name: 'seen', ttl: 60_000 });
    expect(await f.setFlag('tour', 7)).toEqual({ previous: false, period: null });
    expect(await f.setFlag('tour', 7)).toEqual({ previous: true, period: null });
    await f.setFlag('tour', 0);
    await f.setFlag('tour', 1_000_000);
    expect(await f.getFlag('tour', 7)).toBe(true);
    expect(await f.getFlag('tour', 8)).toBe(false);
    expect(await f.countFlags('tour')).toBe(3);
    expect(await f.setFlag('tour', 7, false)).toEqual({ previous: true, period: null });
    expect(await f.countFlags('tour')).toBe(2);
    // A bitmap is as long as its highest flag: (1_000_000 + 1) / 8 bytes, rounded up.
    expect(await kit.redis.strlen(f.key('tour'))).toBe(125_001);
    expect(await kit.redis.pttl(f.key('tour'))).toBeGreaterThan(0);
    await f.reset('tour');
    expect(await f.countFlags('tour')).toBe(0);
  });

  it('counts users active on any or on every one of several periods (Redis clock)', async () => {
    const period = 1000;
    const f = createBitmapFlags(kit, { name: 'active', period, retain: 3 });
    const byPeriod = new Map<string, Set<number>>();
    const activate = async (ids: number[]) => {
      let label = '';
      for (const id of ids) {
        const r = (await f.setFlag('app', id))!;
        label = r.period!;
        const set = byPeriod.get(label) ?? new Set<number>();
        set.add(id);
        byPeriod.set(label, set);
      }
      return label;
    };
    await activate([1, 2, 3, 4, 5]);
    await nextPeriod(kit, period, (await f.readFlags('app')).at);
    await activate([3, 4, 5, 6]);
    await nextPeriod(kit, period, (await f.readFlags('app')).at);
    await activate([4, 5, 9]);

    for (const periods of [1, 2, 3]) {
      for (const op of ['or', 'and'] as const) {
        const r = await f.readFlags('app', { periods, op });
        expect(r.periods).toHaveLength(periods);
        const sets = r.periods.map((label) => byPeriod.get(label) ?? new Set<number>());
        const union = new Set(sets.flatMap((s) => [...s]));
        const everywhere = [...union].filter((id) => sets.every((s) => s.has(id)));
        expect(r.count).toBe(op === 'or' ? union.size : everywhere.length);
      }
    }
    // The scratch key of a multi-period count never outlives the call.
    expect(await kit.redis.exists(f.key('app', 'scratch'))).toBe(0);
  });

  it('rejects flags beyond maxFlag before anything is written', async () => {
    const f = createBitmapFlags(kit, { name: 'capped', maxFlag: 1000 });
    await expect(f.setFlag('x', 1001)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(f.setFlag('x', -1)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(f.setFlag('x', 1.5)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(f.countFlags('x', { op: 'xor' as never })).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    expect(await kit.redis.exists(f.key('x'))).toBe(0);
    expect(() => createBitmapFlags(kit, { name: 'f', maxFlag: 2 ** 32 })).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }),
    );
  });
});
