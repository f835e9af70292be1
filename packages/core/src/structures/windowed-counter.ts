import { LUA } from '../generated/lua';
import { invalidOption, optNumber } from '../options';
import type { FailPolicy } from '../redis/fail-policy';
import type { RedisKit } from '../redis/redis-kit';
import { defineScript } from '../redis/script';
import { argId, argInteger, resolveBase, resolveFailPolicy, Runner, type CommonOptions } from './shared';

const addScript = defineScript<number[]>(LUA.windowedCounterAdd);
const readScript = defineScript<number[]>(LUA.windowedCounterRead);

/** Options of {@link createWindowedCounter}. */
export interface WindowedCounterOptions extends CommonOptions {
  /** Length of the sliding window in ms ("in the last 5 minutes": 300000). Required. */
  window: number;
  /**
   * Buckets the window is split into; `window / buckets` must be a whole
   * number of ms. More buckets, smaller error and more memory. Default 60.
   */
  buckets?: number;
  /** What `incr` does when Redis fails: `'open'` (default) resolves null; `'closed'` rejects. */
  failPolicy?: FailPolicy;
}

/** {@link WindowedCounterOptions} after defaults. */
export interface ResolvedWindowedCounterOptions {
  readonly name: string;
  readonly window: number;
  readonly buckets: number;
  /** `window / buckets`, in ms. */
  readonly bucketWidth: number;
  readonly failPolicy: FailPolicy;
  readonly timeout: number | undefined;
}

/**
 * A reading of a windowed counter at Redis time `at`. The exact number of
 * events in the window (`at - window`, `at`] always lies in
 * [`lower`, `upper`]; `count` is the estimate within that range, so
 * |count - exact| <= upper - lower = the events of one bucket at the
 * window's trailing edge.
 */
export interface WindowCount {
  /** Estimated events in the last `window` ms (rounded to an integer). */
  count: number;
  /** Events certainly in the window (the buckets wholly inside it). */
  lower: number;
  /** `lower` plus the events of the edge bucket, only partly inside the window. */
  upper: number;
  /** Redis time of the reading, in ms. */
  at: number;
  /**
   * Events per bucket, oldest first: `buckets + 1` numbers; the first is the
   * edge bucket, the last the current (partial) bucket starting at
   * `floor(at / bucketWidth) * bucketWidth`.
   */
  series: number[];
}

const KNOWN = ['name', 'window', 'buckets', 'failPolicy', 'timeout'] as const;

/**
 * "How many X in the last N minutes": a sliding-window counter kept as one
 * hash of per-bucket counts, bucketed by the Redis clock. One round trip per
 * increment and per read; memory bounded by `buckets + 2` hash fields per id;
 * the key expires one window after its last increment.
 *
 * The estimate counts the buckets wholly inside the window and the fraction
 * of the edge bucket that still overlaps it (assuming its events were spread
 * evenly), so the error is at most the edge bucket's count.
 *
 * @example
 * const views = createWindowedCounter(kit, { name: 'views', window: 5 * 60_000, buckets: 60 });
 * await views.incr('/pricing');            // { count, lower, upper, at, series }
 * const last5min = await views.count('/pricing');
 */
export class WindowedCounter {
  readonly options: ResolvedWindowedCounterOptions;
  private readonly runner: Runner;

  constructor(
    private readonly kit: RedisKit,
    options: WindowedCounterOptions,
  ) {
    const where = 'windowedCounter';
    const common = resolveBase(where, options, KNOWN);
    if (options.window === undefined) invalidOption(where, 'window', 'an integer number of ms >= 1', undefined);
    const window = optNumber(where, 'window', options.window, 0, { integer: true, min: 1, max: 366 * 86_400_000 });
    const buckets = optNumber(where, 'buckets', options.buckets, 60, { integer: true, min: 1, max: 1000 });
    if (window % buckets !== 0) {
      invalidOption(where, 'buckets', `a divisor of window (${window} ms) so that every bucket is a whole number of ms`, buckets);
    }
    this.options = Object.freeze({
      name: common.name,
      window,
      buckets,
      bucketWidth: window / buckets,
      failPolicy: resolveFailPolicy(where, options.failPolicy, 'open'),
      timeout: common.timeout,
    });
    this.runner = new Runner(kit, 'windowed-counter', common.name, this.options.failPolicy, common.timeout);
  }

  /** The Redis key (a hash) of counter `id`. */
  key(id: string | number): string {
    return this.kit.keys.key('window', this.options.name, argId('windowedCounter.key', 'id', id));
  }

  /** Counts `by` events (a positive integer, default 1) now; resolves the window after it, or null when failing open. */
  async incr(id: string | number, by = 1): Promise<WindowCount | null> {
    const key = this.key(id);
    const amount = argInteger('windowedCounter.incr', 'by', by, 1);
    const { bucketWidth, buckets } = this.options;
    const reply = await this.runner.write('incr', (redis) => addScript.call(redis, [key], [bucketWidth, buckets, amount]));
    return reply === null ? null : this.toCount(reply);
  }

  /** Estimated events in the last `window` ms. Rejects with a coded error when Redis fails. */
  async count(id: string | number): Promise<number> {
    return (await this.read(id)).count;
  }

  /** The full reading: estimate, exact bounds, Redis time and per-bucket counts. */
  async read(id: string | number): Promise<WindowCount> {
    const key = this.key(id);
    const { bucketWidth, buckets } = this.options;
    const reply = await this.runner.read('read', (redis) => readScript.call(redis, [key], [bucketWidth, buckets]));
    return this.toCount(reply);
  }

  /** Deletes the counter. Always fails closed. */
  async reset(id: string | number): Promise<void> {
    await this.runner.deleteAll('reset', String(id), [this.key(id)]);
  }

  private toCount(reply: number[]): WindowCount {
    return windowEstimate(Number(reply[0]), reply.slice(1).map(Number), this.options.bucketWidth);
  }
}

/**
 * @internal The estimate from the buckets a script returned: `series` holds
 * the counts of buckets b - n .. b (b = floor(at / width)), oldest first.
 * Counts the buckets wholly inside (at - window, at] and the share of the
 * edge bucket b - n that still overlaps it, as if its events were spread
 * evenly over it.
 */
export function windowEstimate(at: number, series: number[], width: number): WindowCount {
  const edge = series[0] ?? 0;
  let lower = 0;
  for (let i = 1; i < series.length; i++) lower += series[i]!;
  const inside = 1 - (at - Math.floor(at / width) * width) / width;
  return { count: Math.round(lower + edge * inside), lower, upper: lower + edge, at, series };
}

/**
 * Creates a {@link WindowedCounter}. Bad options throw a RedisKitError.
 *
 * @example
 * const failures = createWindowedCounter(kit, { name: 'login-failures', window: 15 * 60_000, buckets: 15 });
 */
export function createWindowedCounter(kit: RedisKit, options: WindowedCounterOptions): WindowedCounter {
  return new WindowedCounter(kit, options);
}
