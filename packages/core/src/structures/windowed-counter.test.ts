import { describe, expect, it } from '@jest/globals';
import { windowEstimate } from './windowed-counter';

// The estimator's error over long synthetic traffic, against the exact
// sliding count. The bucketing here is the Lua script's (bucket =
// floor(ms / width)); integration-tests/structures/windowed-counter.test.ts
// checks the script's buckets against an exact replay on real Redis. Set
// REDISKIT_PRINT_WINDOW_ERROR=1 to print the figures docs/structures.md quotes.

/** Deterministic PRNG (mulberry32), so the figures are reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scenario {
  label: string;
  /** Events per second while traffic is on. */
  rate: number;
  window: number;
  buckets: number;
  /** On/off traffic: `rate` for `burst` ms, then nothing for `burst` ms. */
  burst?: number;
}

function simulate(s: Scenario, seconds: number) {
  const next = random(42);
  const width = s.window / s.buckets;
  const events: number[] = [];
  for (let t = 0; t < seconds * 1000; ) {
    if (s.burst && Math.floor(t / s.burst) % 2 === 1) {
      t = (Math.floor(t / s.burst) + 1) * s.burst;
      continue;
    }
    t += (-Math.log(1 - next()) * 1000) / s.rate;
    events.push(Math.floor(t));
  }
  const counts = new Map<number, number>();
  let seen = 0;
  let leaving = 0;
  let absError = 0;
  let exactTotal = 0;
  let worstRelative = 0;
  let reads = 0;
  const violations: object[] = [];
  // Read every 997 ms (not a divisor of the bucket width, so reads land
  // everywhere within buckets) once the first window is full.
  for (let at = 2 * s.window; at < seconds * 1000; at += 997) {
    while (seen < events.length && events[seen]! <= at) {
      const b = Math.floor(events[seen]! / width);
      counts.set(b, (counts.get(b) ?? 0) + 1);
      seen++;
    }
    while (leaving < seen && events[leaving]! <= at - s.window) leaving++;
    const exact = seen - leaving;
    const b = Math.floor(at / width);
    const series = Array.from({ length: s.buckets + 1 }, (_, i) => counts.get(b - s.buckets + i) ?? 0);
    const r = windowEstimate(at, series, width);
    // The hard guarantee, on every read.
    if (exact < r.lower || exact > r.upper || Math.abs(r.count - exact) > series[0]!) violations.push({ exact, ...r });
    absError += Math.abs(r.count - exact);
    exactTotal += exact;
    if (exact > 0) worstRelative = Math.max(worstRelative, Math.abs(r.count - exact) / exact);
    reads++;
  }
  return { ...s, reads, violations, meanErrorPct: (100 * absError) / exactTotal, worstErrorPct: 100 * worstRelative };
}

describe('windowed counter estimate', () => {
  it('stays within [lower, upper] and within one edge bucket of the exact count over two hours of traffic', () => {
    const scenarios: Scenario[] = [
      { label: 'steady 10/s, 5 min, 60 buckets', rate: 10, window: 300_000, buckets: 60 },
      { label: 'steady 1/s, 5 min, 60 buckets', rate: 1, window: 300_000, buckets: 60 },
      { label: 'steady 10/s, 5 min, 10 buckets', rate: 10, window: 300_000, buckets: 10 },
      { label: 'bursts 20/s on/off every 30 s, 5 min, 60 buckets', rate: 20, window: 300_000, buckets: 60, burst: 30_000 },
      { label: 'bursts 20/s on/off every 7 s, 5 min, 60 buckets', rate: 20, window: 300_000, buckets: 60, burst: 7_000 },
    ];
    const results = scenarios.map((s) => simulate(s, 7200));
    if (process.env.REDISKIT_PRINT_WINDOW_ERROR === '1') {
      console.log(results.map((r) => `${r.label}: mean ${r.meanErrorPct.toFixed(3)}%, worst ${r.worstErrorPct.toFixed(2)}% over ${r.reads} reads`).join('\n'));
    }
    for (const r of results) {
      expect(r.violations).toEqual([]);
      expect(r.reads).toBeGreaterThan(6000);
    }
  });

  it('counts the whole edge bucket at its start and none of it at its end', () => {
    const width = 1000;
    // series: edge bucket 10 events, then 2 buckets of 1.
    expect(windowEstimate(5000, [10, 1, 1], width)).toMatchObject({ count: 12, lower: 2, upper: 12 });
    expect(windowEstimate(5500, [10, 1, 1], width)).toMatchObject({ count: 7 });
    expect(windowEstimate(5999, [10, 1, 1], width)).toMatchObject({ count: 2 });
  });
});
