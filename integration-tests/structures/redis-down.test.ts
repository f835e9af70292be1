import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, structures, type RedisKit, type RedisKitEventMap } from '@rediskit/core';
import { startRedis, uniquePrefix, waitFor, type StartedRedis } from '@rediskit/testing';

// Redis stopped (killed) and hung (paused) mid-run: every call returns within
// the operation timeout with its documented answer, and everything works
// again, data intact, once Redis is back.
describe('structures when Redis fails', () => {
  let server: StartedRedis;
  let kit: RedisKit;
  const storeErrors: Array<RedisKitEventMap['store-error']> = [];
  const recovered: Array<RedisKitEventMap['recovered']> = [];

  beforeAll(async () => {
    // AOF with fsync on every write, so a kill loses nothing acknowledged.
    server = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    kit = createRedisKit({
      url: server.url,
      prefix: uniquePrefix('structures-down'),
      operationTimeout: 300,
      degradeAfterTimeouts: 3,
      healthCheckInterval: 50,
      logger: false,
    });
    kit.events.on('store-error', (e) => storeErrors.push(e));
    kit.events.on('recovered', (e) => recovered.push(e));
    await kit.ready();
  });
  afterAll(async () => {
    await kit.close();
    await server.stop();
  });

  const all = () => {
    const s = structures(kit);
    return {
      counter: s.counter({ name: 'c', ttl: 60_000 }),
      strictCounter: s.counter({ name: 'strict', failPolicy: 'closed' }),
      window: s.windowedCounter({ name: 'w', window: 60_000 }),
      uniques: s.uniqueCounter({ name: 'u', period: 'day' }),
      flags: s.flags({ name: 'f', period: 'day' }),
      board: s.leaderboard({ name: 'b', period: 'day', retain: 2 }),
      lenientBoard: s.leaderboard({ name: 'lenient', failPolicy: 'open' }),
    };
  };

  /** Every operation's answer while Redis cannot serve it, as documented. */
  async function expectDocumentedFailures(code: 'ERR_REDISKIT_UNAVAILABLE' | 'ERR_REDISKIT_TIMEOUT' | RegExp): Promise<void> {
    const s = all();
    const coded = { code: typeof code === 'string' ? code : expect.stringMatching(code) };
    // Writes of counters, windows, uniques and flags fail open: null.
    expect(await s.counter.incr('k')).toBeNull();
    expect(await s.counter.decr('k')).toBeNull();
    expect(await s.window.incr('k')).toBeNull();
    expect(await s.uniques.add('k', 'v')).toBeNull();
    expect(await s.flags.setFlag('k', 3)).toBeNull();
    expect(await s.lenientBoard.increment('p', 1)).toBeNull();
    // ... unless configured closed; leaderboard writes are closed by default.
    await expect(s.strictCounter.incr('k')).rejects.toMatchObject(coded);
    await expect(s.board.increment('p', 1)).rejects.toMatchObject(coded);
    // Reads and resets always fail closed: no made-up number.
    await expect(s.counter.get('k')).rejects.toMatchObject(coded);
    await expect(s.counter.reset('k')).rejects.toMatchObject(coded);
    await expect(s.window.count('k')).rejects.toMatchObject(coded);
    await expect(s.uniques.count('k', { periods: 1 })).rejects.toMatchObject(coded);
    await expect(s.flags.countFlags('k')).rejects.toMatchObject(coded);
    await expect(s.board.top(10)).rejects.toMatchObject(coded);
    await expect(s.board.combined({ periods: 2 }).rank('p')).rejects.toMatchObject(coded);
  }

  async function expectWorkingWith(previous: { counter: number; board: number }, round: number): Promise<void> {
    const s = all();
    await waitFor('Redis to answer again', async () => (await s.counter.incr('k')) !== null);
    // Data written before the outage is intact (a call that failed open may
    // or may not have reached Redis, so only lower bounds for the counter).
    expect(await s.counter.get('k')).toBeGreaterThan(previous.counter);
    expect(await s.board.score('p')).toBeGreaterThanOrEqual(previous.board);
    expect((await s.window.incr('k'))!.count).toBeGreaterThanOrEqual(2);
    expect(await s.uniques.add('k', `after-${round}`)).toMatchObject({ changed: true });
    expect(await s.flags.setFlag('k', 100 + round)).toMatchObject({ previous: false });
    expect(await s.board.increment('p', 1)).toMatchObject({ score: expect.any(Number) });
  }

  it('killed: fails fast with the documented answers, recovers when Redis restarts', async () => {
    const s = all();
    expect(await s.counter.incr('k')).toBe(1);
    await s.window.incr('k');
    await s.board.increment('p', 5);
    storeErrors.length = 0;

    await server.kill();
    await waitFor('the context to notice', async () => kit.state !== 'ready');
    await expectDocumentedFailures('ERR_REDISKIT_UNAVAILABLE');
    expect(storeErrors.length).toBeGreaterThanOrEqual(15);
    expect(storeErrors.every((e) => e.feature === 'structures')).toBe(true);
    expect(storeErrors.filter((e) => e.policy === 'open').map((e) => e.operation)).toEqual([
      'counter incr (c)',
      'counter decr (c)',
      'windowed-counter incr (w)',
      'unique-counter add (u)',
      'flags setFlag (f)',
      'leaderboard increment (lenient)',
    ]);

    await server.restart();
    await expectWorkingWith({ counter: 1, board: 5 }, 1);
    expect(recovered.some((r) => r.feature === 'structures')).toBe(true);
  });

  it('hung: calls time out within the operation timeout, then fail fast; recover on resume', async () => {
    const s = all();
    await waitFor('ready', async () => (await s.counter.incr('k')) !== null);
    const counter = await s.counter.get('k');
    const board = (await s.board.score('p')) ?? 0;
    storeErrors.length = 0;

    server.process.pause();
    try {
      await expectDocumentedFailures(/^ERR_REDISKIT_(TIMEOUT|UNAVAILABLE)$/);
      expect(storeErrors.some((e) => e.error.code === 'ERR_REDISKIT_TIMEOUT')).toBe(true);
      expect(kit.state).toBe('degraded');
    } finally {
      server.process.resume();
    }
    await expectWorkingWith({ counter, board }, 2);
  });
});
