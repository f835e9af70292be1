import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createWindowedCounter, structures, type RedisKit, type WindowCount } from '@rediskit/core';
import { waitFor } from '@rediskit/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { sharedKit } from './helpers';

interface Event {
  at: number;
  by: number;
}

/**
 * What an exact log of the same events says about the window ending at `at`:
 * the exact count in (at - window, at], and the sums of the buckets a reading
 * at `at` looks at (all from the Redis times the script itself used, so
 * scheduling jitter on this side cannot change the comparison).
 */
function replay(events: Event[], at: number, window: number, width: number) {
  const n = window / width;
  const b = Math.floor(at / width);
  let exact = 0;
  let whole = 0;
  let edge = 0;
  for (const e of events) {
    if (e.at > at - window && e.at <= at) exact += e.by;
    const eb = Math.floor(e.at / width);
    if (eb > b - n && eb <= b) whole += e.by;
    else if (eb === b - n) edge += e.by;
  }
  return { exact, whole, edge };
}

function expectWithinBound(reading: WindowCount, events: Event[], window: number, width: number): number {
  const { exact, whole, edge } = replay(events, reading.at, window, width);
  expect(reading.lower).toBe(whole);
  expect(reading.upper).toBe(whole + edge);
  // The documented guarantee: the exact count lies in [lower, upper] and the
  // estimate is off by at most the edge bucket's events.
  expect(exact).toBeGreaterThanOrEqual(reading.lower);
  expect(exact).toBeLessThanOrEqual(reading.upper);
  expect(Math.abs(reading.count - exact)).toBeLessThanOrEqual(edge);
  return Math.abs(reading.count - exact);
}

describe('WindowedCounter', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = await sharedKit('window');
  });
  afterAll(() => kit.close());

  it('matches an exact replay of the same events within the stated bound, with bounded memory', async () => {
    const window = 1000;
    const buckets = 10;
    const width = window / buckets;
    const w = createWindowedCounter(kit, { name: 'replay', window, buckets });
    const events: Event[] = [];
    let readings = 0;
    let first: number | undefined;
    let last = 0;
    // Bursts of varying size and spacing over three windows of Redis time.
    // Every increment's reply and an extra read after each burst are checked
    // against the replay of everything sent before them.
    for (let burst = 0; first === undefined || last - first < 3 * window; burst++) {
      const size = 1 + (burst % 7);
      for (let i = 0; i < size; i++) {
        const by = 1 + ((burst * 7 + i) % 3);
        const reading = (await w.incr('page', by))!;
        events.push({ at: reading.at, by });
        first ??= reading.at;
        last = reading.at;
        expectWithinBound(reading, events, window, width);
        readings++;
      }
      expectWithinBound(await w.read('page'), events, window, width);
      readings++;
      // Memory stays bounded however long the counter runs: at most buckets + 2 fields.
      expect(await kit.redis.hlen(w.key('page'))).toBeLessThanOrEqual(buckets + 2);
      await sleep(burst % 5 === 0 ? 150 : 20);
    }
    expect(readings).toBeGreaterThan(30);
    const pttl = await kit.redis.pttl(w.key('page'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual((buckets + 1) * width);
  });

  it('counts every event while all of them are inside the window', async () => {
    const w = createWindowedCounter(kit, { name: 'inside', window: 600_000, buckets: 60 });
    let total = 0;
    for (let i = 1; i <= 20; i++) {
      const r = (await w.incr('k', i))!;
      total += i;
      expect(r.count).toBe(total);
    }
    const r = await w.read('k');
    expect(r).toMatchObject({ count: total, lower: total, upper: total });
    expect(r.series).toHaveLength(61);
    expect(r.series.reduce((a, b) => a + b, 0)).toBe(total);
    expect(await w.count('other')).toBe(0);
  });

  it('forgets events once they leave the window, and the key expires', async () => {
    const w = createWindowedCounter(kit, { name: 'expiry', window: 300, buckets: 3 });
    await w.incr('k', 4);
    await waitFor('the window to pass', async () => (await w.count('k')) === 0);
    await waitFor('the key to expire', async () => (await kit.redis.exists(w.key('k'))) === 0);
    await w.incr('k');
    await w.reset('k');
    expect(await w.read('k')).toMatchObject({ count: 0, lower: 0, upper: 0 });
  });

  it('rejects bad options at construction with codes', () => {
    const bad = (options: object) => () => createWindowedCounter(kit, { name: 'w', ...options } as never);
    expect(bad({})).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION', message: expect.stringContaining('window') }));
    expect(bad({ window: 0 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(bad({ window: 1000, buckets: 7 })).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION', message: expect.stringContaining('divisor') }),
    );
    expect(bad({ window: 1000, buckets: 0 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    expect(bad({ window: 1000, bucket: 10 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_UNKNOWN_OPTION' }));
    expect(createWindowedCounter(kit, { name: 'w', window: 300_000 }).options).toMatchObject({ buckets: 60, bucketWidth: 5000, failPolicy: 'open' });
  });

  it('structures(kit) returns one instance per name, and refuses a second definition with other options', () => {
    const s = structures(kit);
    const views = s.windowedCounter({ name: 'registry', window: 300_000 });
    expect(s.windowedCounter({ name: 'registry', window: 300_000 })).toBe(views);
    expect(s.windowedCounter({ name: 'registry', window: 300_000, buckets: 60 })).toBe(views);
    expect(() => s.windowedCounter({ name: 'registry', window: 60_000 })).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }),
    );
    // Another kind may use the same name: its keys are separate.
    expect(s.counter({ name: 'registry' }).key('x')).not.toBe(views.key('x'));
  });
});
