import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hashTagOf, Period, structures, type RedisKit } from '@rediskit/core';
import { nextPeriod, sharedKit } from './helpers';

// The structures whose one call spans several keys (time-boxed uniques,
// flags and leaderboards, combined boards, resets) on the local 6-node
// Cluster: their keys share a hash tag, so every script runs on one node.
describe('structures on the local 6-node Redis Cluster', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = await sharedKit('structures-cluster', 'cluster');
    expect(kit.masters()).toHaveLength(3);
  });
  afterAll(() => kit.close());

  it('counters and windowed counters', async () => {
    const s = structures(kit);
    const counter = s.counter({ name: 'c', ttl: 60_000 });
    const window = s.windowedCounter({ name: 'w', window: 60_000, buckets: 12 });
    for (let i = 0; i < 30; i++) {
      await counter.incr(`id-${i % 5}`);
      await window.incr(`id-${i % 5}`, 2);
    }
    for (let i = 0; i < 5; i++) {
      expect(await counter.get(`id-${i}`)).toBe(6);
      expect(await window.count(`id-${i}`)).toBe(12);
    }
    // Different ids spread over the masters.
    const holding = await Promise.all(
      kit.masters().map(async (node) => {
        for (let i = 0; i < 5; i++) {
          if ((await node.call('EXISTS', counter.key(`id-${i}`)).catch(() => 0)) === 1) return true;
        }
        return false;
      }),
    );
    expect(holding.filter(Boolean).length).toBeGreaterThan(1);
  });

  it('time-boxed uniques and flags merge periods in one slot; reset deletes every period', async () => {
    const period = new Period('custom', 1000);
    const s = structures(kit);
    const uniques = s.uniqueCounter({ name: 'u', period: period.ms, retain: 2 });
    const flags = s.flags({ name: 'f', period: period.ms, retain: 2 });
    const first = (await uniques.add('page', ['a', 'b', 'c']))!;
    // Flags in the same period as the uniques: each setFlag reports its period too.
    const flagPeriods: string[] = [];
    for (const id of [1, 2]) flagPeriods.push((await flags.setFlag('app', id))!.period!);
    await nextPeriod(kit, period.ms, await kit.time());
    const second = (await uniques.add('page', ['c', 'd']))!;
    for (const id of [2, 3]) flagPeriods.push((await flags.setFlag('app', id))!.period!);
    expect(second.period).not.toBe(first.period);
    expect(hashTagOf(uniques.key('page', first.period!))).toBe(hashTagOf(uniques.key('page', second.period!)));

    // Compared by the periods each call reports, so a period boundary passing
    // between the calls cannot change the expectation.
    const members = new Map([
      [first.period!, ['a', 'b', 'c']],
      [second.period!, ['c', 'd']],
    ]);
    const merged = await uniques.read('page', { periods: 2 });
    expect(merged.count).toBe(new Set(merged.periods.flatMap((p) => members.get(p) ?? [])).size);
    const active = new Map<string, number[]>();
    [1, 2, 2, 3].forEach((id, i) => active.set(flagPeriods[i]!, [...(active.get(flagPeriods[i]!) ?? []), id]));
    for (const op of ['or', 'and'] as const) {
      const r = await flags.readFlags('app', { periods: 2, op });
      const sets = r.periods.map((p) => new Set(active.get(p) ?? []));
      const union = new Set(sets.flatMap((set) => [...set]));
      expect(r.count).toBe(op === 'or' ? union.size : [...union].filter((id) => sets.every((set) => set.has(id))).length);
    }
    await uniques.reset('page');
    await flags.reset('app');
    expect(await kit.redis.exists(uniques.key('page', first.period!), uniques.key('page', second.period!))).toBe(0);
    expect(await kit.redis.exists(...new Set(flagPeriods.map((p) => flags.key('app', p))))).toBe(0);
  });

  it('leaderboards: period boards, combined board, remove from every period, clear', async () => {
    const board = structures(kit).leaderboard({ name: 'arcade', period: 'day', retain: 7 });
    await board.increment('alice', 10);
    await board.increment('bob', 20);
    await board.submit('carol', 15);
    const week = board.combined({ periods: 7, weights: [1, 1, 1, 1, 1, 1, 1], reuse: 0 });
    expect((await week.top(3)).map((e) => [e.member, e.score, e.rank])).toEqual([
      ['bob', 20, 1],
      ['carol', 15, 2],
      ['alice', 10, 3],
    ]);
    expect(await week.around('carol', 1)).toHaveLength(3);
    expect(await board.remove('bob')).toBe(true);
    expect(await week.rank('bob')).toBeNull();
    await board.clear();
    expect(await week.size()).toBe(0);
  });
});
