import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLeaderboard, Period, type LeaderboardEntry, type RedisKit } from '@rediskit/core';
import { nextPeriod, sharedKit } from './helpers';

/**
 * The ranking a leaderboard promises, computed independently: better score
 * first, equal scores by member name (byte order); `shared` ranks count the
 * members with a strictly better score, `ordinal` ranks are positions.
 */
function reference(scores: Map<string, number>, order: 'desc' | 'asc', ties: 'shared' | 'ordinal', base: 0 | 1): LeaderboardEntry[] {
  const sorted = [...scores].sort(([ma, sa], [mb, sb]) =>
    sa !== sb ? (order === 'desc' ? sb - sa : sa - sb) : Buffer.compare(Buffer.from(ma), Buffer.from(mb)),
  );
  return sorted.map(([member, score], i) => {
    const better = sorted.filter(([, s]) => (order === 'desc' ? s > score : s < score)).length;
    return { member, score, rank: (ties === 'shared' ? better : i) + base };
  });
}

/** Runs `read` until the Redis clock stayed in one period across it; returns the result and that period's index. */
async function inOnePeriod<T>(kit: RedisKit, period: Period, read: () => Promise<T>): Promise<{ value: T; index: number }> {
  for (;;) {
    const before = period.index(await kit.time());
    const value = await read();
    const after = period.index(await kit.time());
    if (before === after) return { value, index: before };
  }
}

describe('Leaderboard', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = await sharedKit('board');
  });
  afterAll(() => kit.close());

  it('ranks ties shared ("1224") or ordinal, 1- or 0-based, and lists equal scores by name', async () => {
    const board = createLeaderboard(kit, { name: 'ties' });
    const scores = new Map(Object.entries({ a: 50, b: 100, c: 90, d: 90, e: 90, f: 100, g: 10 }));
    for (const [m, s] of scores) await board.add(m, s);

    expect(await board.top(7)).toEqual(reference(scores, 'desc', 'shared', 1));
    expect((await board.top(3)).map((e) => `${e.member}:${e.rank}`)).toEqual(['b:1', 'f:1', 'c:3']);
    expect(await board.rank('d')).toBe(3);
    expect(await board.rank('a')).toBe(6);
    expect(await board.rank('d', { base: 0 })).toBe(2);
    expect(await board.rank('d', { ties: 'ordinal' })).toBe(4);
    expect(await board.rank('d', { ties: 'ordinal', base: 0 })).toBe(3);
    expect(await board.rank('nobody')).toBeNull();
    expect(await board.score('c')).toBe(90);
    expect(await board.score('nobody')).toBeNull();
    expect(await board.size()).toBe(7);

    const ordinal0 = createLeaderboard(kit, { name: 'ties', ties: 'ordinal', rankBase: 0 });
    expect(await ordinal0.top(7)).toEqual(reference(scores, 'desc', 'ordinal', 0));
  });

  it('pages through a board with many ties: pages join up to the full ranking, ranks right across page edges', async () => {
    const board = createLeaderboard(kit, { name: 'pages' });
    const scores = new Map<string, number>();
    for (let i = 0; i < 237; i++) scores.set(`player-${String(i).padStart(3, '0')}`, (i * 7) % 13);
    await Promise.all([...scores].map(([m, s]) => board.add(m, s)));
    const expected = reference(scores, 'desc', 'shared', 1);

    const pages: LeaderboardEntry[][] = [];
    for (let offset = 0; ; offset += 10) {
      const page = await board.page(offset, 10);
      if (page.length === 0) break;
      pages.push(page);
    }
    expect(pages).toHaveLength(24);
    expect(pages.at(-1)).toHaveLength(7);
    expect(pages.flat()).toEqual(expected);
    expect(await board.page(1000, 10)).toEqual([]);

    // around: the member with n entries each side, clipped at the ends.
    const middle = expected[120]!;
    expect(await board.around(middle.member, 3)).toEqual(expected.slice(117, 124));
    expect(await board.around(expected[1]!.member, 3)).toEqual(expected.slice(0, 5));
    expect(await board.around(expected.at(-1)!.member, 2)).toEqual(expected.slice(-3));
    expect(await board.around('nobody', 3)).toEqual([]);
    for (const e of [expected[0]!, middle, expected.at(-1)!]) expect(await board.rank(e.member)).toBe(e.rank);
  });

  it('asc boards rank the lowest first; submit keeps the best; increment adds; remove removes', async () => {
    const times = createLeaderboard(kit, { name: 'lap-times', order: 'asc' });
    expect(await times.submit('alice', 42.5)).toEqual({ score: 42.5, period: null });
    expect(await times.submit('alice', 44)).toEqual({ score: 42.5, period: null });
    expect(await times.submit('alice', 41.25)).toEqual({ score: 41.25, period: null });
    await times.submit('bob', 41.25);
    await times.submit('carol', 39);
    expect(await times.top(3)).toEqual(
      reference(new Map([['alice', 41.25], ['bob', 41.25], ['carol', 39]]), 'asc', 'shared', 1),
    );

    const points = createLeaderboard(kit, { name: 'points' });
    expect(await points.submit('x', 10)).toMatchObject({ score: 10 });
    expect(await points.submit('x', 5)).toMatchObject({ score: 10 });
    expect(await points.increment('x', 2.5)).toMatchObject({ score: 12.5 });
    expect(await points.increment('y', -3)).toMatchObject({ score: -3 });
    expect(await points.increment('y', 3)).toMatchObject({ score: 0 });
    expect(Object.is(await points.score('y'), 0)).toBe(true);
    expect(await points.remove('x')).toBe(true);
    expect(await points.remove('x')).toBe(false);
    expect(await points.score('x')).toBeNull();
    await points.clear();
    expect(await points.size()).toBe(0);
  });

  it('keeps one board per period (Redis clock) and combines periods with weights in one hash slot', async () => {
    const period = new Period('custom', 1000);
    const board = createLeaderboard(kit, { name: 'arcade', period: period.ms, retain: 3 });
    const byLabel = new Map<string, Map<string, number>>();
    const play = async (member: string, points: number) => {
      const r = (await board.increment(member, points))!;
      const scores = byLabel.get(r.period!) ?? new Map<string, number>();
      scores.set(member, (scores.get(member) ?? 0) + points);
      byLabel.set(r.period!, scores);
      expect(r.score).toBe(scores.get(member));
    };
    await play('alice', 10);
    await play('bob', 30);
    await play('carol', 20);
    await nextPeriod(kit, period.ms, await kit.time());
    await play('alice', 40);
    await play('dave', 25);
    await nextPeriod(kit, period.ms, await kit.time());
    await play('bob', 8);
    await play('erin', 12);
    expect(byLabel.size).toBe(3);

    const weights = [1, 0.5, 0.25];
    const combined = board.combined({ periods: 3, weights, reuse: 0 });
    const { value, index } = await inOnePeriod(kit, period, () => combined.top(10));
    const expectedScores = new Map<string, number>();
    weights.forEach((w, i) => {
      for (const [m, s] of byLabel.get(period.label(index - i)) ?? []) expectedScores.set(m, (expectedScores.get(m) ?? 0) + w * s);
    });
    expect(value).toEqual(reference(expectedScores, 'desc', 'shared', 1));

    // Yesterday's board ("ago: 1") is the previous period's, as it was.
    const previous = await inOnePeriod(kit, period, () => board.top(10, { ago: 1 }));
    expect(previous.value).toEqual(reference(byLabel.get(period.label(previous.index - 1)) ?? new Map(), 'desc', 'shared', 1));

    // Every period board expires at a period boundary, `retain` periods after its own start.
    const label = [...byLabel.keys()].sort().at(-1)!;
    const expiresAt = await kit.redis.pexpiretime(board.key(label));
    expect(expiresAt % period.ms).toBe(0);
    expect(expiresAt).toBeGreaterThan(await kit.time());
    // A combined board built with reuse 0 does not outlive its read.
    const left: string[] = [];
    for await (const key of kit.scan(kit.keys.entity('leaderboard', 'arcade').pattern())) left.push(key);
    expect(left.filter((k) => k.includes(':combined:'))).toEqual([]);
    expect(left.length).toBeGreaterThan(0);
  });

  it('reuses a combined board for `reuse` ms, then rebuilds it', async () => {
    const board = createLeaderboard(kit, { name: 'cached', period: 'day', retain: 7 });
    const rebuilt: number[] = [];
    kit.events.on('structures:combined-rebuilt', ({ name, members }) => {
      if (name === 'cached') rebuilt.push(members);
    });
    const week = board.combined({ periods: 7, reuse: 60_000 });
    await board.increment('alice', 5);
    expect(await week.score('alice')).toBe(5);
    await board.increment('alice', 5);
    await board.increment('bob', 1);
    // Within `reuse` the combined board is the one computed before.
    expect(await week.score('alice')).toBe(5);
    expect(await week.size()).toBe(1);
    expect(rebuilt).toEqual([1]);
    // A different combination is a different cached board.
    const fresh = board.combined({ periods: 7, reuse: 0 });
    expect(await fresh.score('alice')).toBe(10);
    expect(await fresh.rank('bob')).toBe(2);
    expect(rebuilt).toEqual([1, 2, 2]);
  });

  it('rejects bad options and arguments with codes', async () => {
    const bad = (options: object) => () => createLeaderboard(kit, { name: 'b', ...options } as never);
    expect(bad({ order: 'up' })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(bad({ rankBase: 2 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(bad({ ties: 'dense' })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(bad({ period: 'day', retain: 1001 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    const plain = createLeaderboard(kit, { name: 'plain' });
    expect(() => plain.combined({ periods: 2 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    const daily = createLeaderboard(kit, { name: 'daily', period: 'day', retain: 3 });
    expect(() => daily.combined({ periods: 4 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(() => daily.combined({ periods: 2, weights: [1] })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(() => daily.combined({ periods: 2, aggregate: 'avg' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }),
    );
    await expect(daily.add('x', Number.NaN)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(daily.top(0)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(daily.top(5, { ago: 3 })).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(daily.page(-1, 5)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    expect(await daily.size()).toBe(0);
  });
});
