import { invalidOption } from '../options';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/**
 * How a time-boxed structure splits time: `'hour'`, `'day'`, `'week'` (ISO
 * weeks, Monday to Sunday) or a custom length in milliseconds (at least
 * 1000). All boundaries are in UTC and come from the Redis clock.
 */
export type PeriodOption = 'hour' | 'day' | 'week' | number;

/**
 * A resolved period: maps a Redis timestamp to a period index and an index to
 * the label used in keys and results (`2026-11-03`, `2026-W45`,
 * `2026-11-03T14`, or `20261103T140500Z` for custom lengths).
 *
 * @example
 * const quarterHours = new Period('custom', 15 * 60_000);
 * quarterHours.label(quarterHours.index(await kit.time())); // '20261103T141500Z'
 */
export class Period {
  /** Length in ms. */
  readonly ms: number;
  /**
   * Added to a timestamp before dividing by `ms`. The Unix epoch is a
   * Thursday; weeks start on Monday, three days earlier.
   */
  readonly offset: number;

  constructor(readonly kind: 'hour' | 'day' | 'week' | 'custom', ms: number) {
    this.ms = ms;
    this.offset = kind === 'week' ? 3 * DAY : 0;
  }

  /** Index of the period holding `t` (ms since the epoch). */
  index(t: number): number {
    return Math.floor((t + this.offset) / this.ms);
  }

  /** First millisecond of period `index`. */
  start(index: number): number {
    return index * this.ms - this.offset;
  }

  /** Label of period `index`, in UTC. */
  label(index: number): string {
    const start = new Date(this.start(index));
    const iso = start.toISOString();
    switch (this.kind) {
      case 'day':
        return iso.slice(0, 10);
      case 'hour':
        return iso.slice(0, 13);
      case 'week':
        return isoWeekLabel(start);
      default:
        return iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    }
  }
}

/** ISO 8601 week label (`2026-W45`) of the week starting on Monday `monday` (UTC). */
function isoWeekLabel(monday: Date): string {
  // The ISO year of a week is the year of its Thursday.
  const thursday = new Date(monday.getTime() + 3 * DAY);
  const year = thursday.getUTCFullYear();
  const dayOfYear = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY);
  const week = Math.floor(dayOfYear / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Validates a `period` option; `undefined` means not time-boxed. */
export function resolvePeriod(where: string, value: unknown): Period | null {
  if (value === undefined) return null;
  if (value === 'hour') return new Period('hour', HOUR);
  if (value === 'day') return new Period('day', DAY);
  if (value === 'week') return new Period('week', WEEK);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1000 && value <= 366 * DAY) {
    return new Period('custom', value);
  }
  return invalidOption(where, 'period', '"hour", "day", "week" or an integer number of ms from 1000 to 366 days', value);
}
