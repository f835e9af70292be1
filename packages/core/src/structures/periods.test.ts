import { describe, expect, it } from '@jest/globals';
import { Period, resolvePeriod } from './periods';

const at = (iso: string) => Date.parse(iso);

describe('Period', () => {
  it('splits days and hours at UTC boundaries', () => {
    const day = resolvePeriod('t', 'day')!;
    expect(day.label(day.index(at('2026-11-03T23:59:59.999Z')))).toBe('2026-11-03');
    expect(day.label(day.index(at('2026-11-04T00:00:00.000Z')))).toBe('2026-11-04');
    expect(day.start(day.index(at('2026-11-03T12:00:00Z')))).toBe(at('2026-11-03T00:00:00Z'));
    const hour = resolvePeriod('t', 'hour')!;
    expect(hour.label(hour.index(at('2026-11-03T14:59:59.999Z')))).toBe('2026-11-03T14');
  });

  it('starts weeks on Monday 00:00 UTC and labels them as ISO weeks', () => {
    const week = resolvePeriod('t', 'week')!;
    const label = (iso: string) => week.label(week.index(at(iso)));
    expect(label('2026-11-01T23:59:59Z')).toBe('2026-W44'); // Sunday
    expect(label('2026-11-02T00:00:00Z')).toBe('2026-W45'); // Monday
    expect(week.start(week.index(at('2026-11-05T10:00:00Z')))).toBe(at('2026-11-02T00:00:00Z'));
    // ISO week-years differ from calendar years around New Year.
    expect(label('2021-01-03T12:00:00Z')).toBe('2020-W53');
    expect(label('2024-12-30T12:00:00Z')).toBe('2025-W01');
    expect(label('2026-12-31T12:00:00Z')).toBe('2026-W53');
  });

  it('labels custom lengths by their UTC start, usable in keys', () => {
    const p = new Period('custom', 15 * 60_000);
    expect(p.label(p.index(at('2026-11-03T14:29:59Z')))).toBe('20261103T141500Z');
  });

  it('rejects other values with ERR_REDISKIT_INVALID_OPTION', () => {
    for (const bad of ['month', 999, 1.5, -1000, '1000', null]) {
      expect(() => resolvePeriod('leaderboard', bad)).toThrow(
        expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION', details: { option: 'leaderboard.period' } }),
      );
    }
    expect(resolvePeriod('t', undefined)).toBeNull();
  });
});
