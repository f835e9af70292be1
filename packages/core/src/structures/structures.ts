import { RedisKitError } from '../errors';
import type { RedisKit } from '../redis/redis-kit';
import { BitmapFlags, type BitmapFlagsOptions } from './bitmap-flags';
import { Counter, type CounterOptions } from './counter';
import { Leaderboard, type LeaderboardOptions } from './leaderboard';
import type { StructureKind } from './shared';
import { UniqueCounter, type UniqueCounterOptions } from './unique-counter';
import { WindowedCounter, type WindowedCounterOptions } from './windowed-counter';

const registries = new WeakMap<RedisKit, Structures>();

/**
 * The structures of one context, created on first use and reused by name:
 * `structures(kit).counter({ name: 'views' })` in a request handler returns
 * the same {@link Counter} every time, so handlers can ask for what they need
 * without a setup step. Asking for an existing name with different options
 * throws ERR_REDISKIT_INVALID_OPTION (two definitions of one structure would
 * disagree about its keys' TTL or layout).
 *
 * @example
 * app.post('/articles/:id/view', async (req, res) => {
 *   const views = structures(getRedisKit(req)).windowedCounter({ name: 'views', window: 300_000 });
 *   res.json(await views.incr(req.params.id));
 * });
 */
export class Structures {
  private readonly made = new Map<string, { options: string; given: string; value: unknown }>();

  constructor(readonly kit: RedisKit) {}

  /** Atomic integer counters ({@link Counter}). */
  counter(options: CounterOptions): Counter {
    return this.get('counter', options, () => new Counter(this.kit, options));
  }

  /** "How many in the last N minutes" ({@link WindowedCounter}). */
  windowedCounter(options: WindowedCounterOptions): WindowedCounter {
    return this.get('windowed-counter', options, () => new WindowedCounter(this.kit, options));
  }

  /** Distinct counts with HyperLogLog ({@link UniqueCounter}). */
  uniqueCounter(options: UniqueCounterOptions): UniqueCounter {
    return this.get('unique-counter', options, () => new UniqueCounter(this.kit, options));
  }

  /** Bitmap flags by numeric id ({@link BitmapFlags}). */
  flags(options: BitmapFlagsOptions): BitmapFlags {
    return this.get('flags', options, () => new BitmapFlags(this.kit, options));
  }

  /** Sorted-set rankings ({@link Leaderboard}). */
  leaderboard(options: LeaderboardOptions): Leaderboard {
    return this.get('leaderboard', options, () => new Leaderboard(this.kit, options));
  }

  private get<T extends { options: object }>(kind: StructureKind, options: { name: string }, make: () => T): T {
    const id = `${kind}\u0000${String(options?.name)}`;
    const existing = this.made.get(id);
    let given: string;
    try {
      given = JSON.stringify(options);
    } catch {
      given = '';
    }
    // The common case, a handler asking again with the same literal options: no validation, no allocation.
    if (existing && given !== '' && given === existing.given) return existing.value as T;
    const candidate = make();
    const resolved = JSON.stringify(candidate.options);
    if (existing) {
      // Compare resolved options, so `{ buckets: 60 }` and the default agree.
      if (resolved !== existing.options) {
        throw new RedisKitError(
          'ERR_REDISKIT_INVALID_OPTION',
          `${kind} "${options.name}" already exists with other options: ${existing.options}`,
          { details: { option: kind } },
        );
      }
      return existing.value as T;
    }
    this.made.set(id, { options: resolved, given, value: candidate });
    return candidate;
  }
}

/**
 * The {@link Structures} registry of a context (one per context).
 *
 * @example
 * const board = structures(kit).leaderboard({ name: 'arcade', period: 'day' });
 */
export function structures(kit: RedisKit): Structures {
  let registry = registries.get(kit);
  if (!registry) {
    registry = new Structures(kit);
    registries.set(kit, registry);
  }
  return registry;
}
