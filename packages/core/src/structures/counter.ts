import { LUA } from '../generated/lua';
import type { FailPolicy } from '../redis/fail-policy';
import type { RedisKit } from '../redis/redis-kit';
import { defineScript } from '../redis/script';
import {
  argId,
  argInteger,
  resolveBase,
  resolveExpiry,
  resolveFailPolicy,
  Runner,
  type CommonOptions,
  type ExpiryOptions,
  type TtlMode,
} from './shared';

const incrScript = defineScript<number>(LUA.counterIncr);

/** Options of {@link createCounter}. */
export interface CounterOptions extends CommonOptions, ExpiryOptions {
  /**
   * What `incr`/`decr` do when Redis fails: `'open'` (default) resolves
   * `null` and emits `store-error`; `'closed'` rejects with the coded error.
   */
  failPolicy?: FailPolicy;
}

/** {@link CounterOptions} after defaults. */
export interface ResolvedCounterOptions {
  readonly name: string;
  readonly ttl: number;
  readonly ttlMode: TtlMode;
  readonly failPolicy: FailPolicy;
  readonly timeout: number | undefined;
}

const KNOWN = ['name', 'ttl', 'ttlMode', 'failPolicy', 'timeout'] as const;

/**
 * A family of atomic integer counters (one Redis string per id), with an
 * optional TTL. Each `incr`/`decr` is one round trip (INCRBY and PEXPIRE in
 * one script), exact under any number of concurrent writers.
 *
 * @example
 * const orders = createCounter(kit, { name: 'orders-today', ttl: 86_400_000 });
 * await orders.incr('shop-7');        // 1, or null if Redis is down (fail open)
 * await orders.get('shop-7');         // 1
 */
export class Counter {
  readonly options: ResolvedCounterOptions;
  private readonly runner: Runner;

  constructor(
    private readonly kit: RedisKit,
    options: CounterOptions,
  ) {
    const where = 'counter';
    const common = resolveBase(where, options, KNOWN);
    const expiry = resolveExpiry(where, options, null);
    this.options = Object.freeze({
      name: common.name,
      ttl: expiry.ttl,
      ttlMode: expiry.ttlMode,
      failPolicy: resolveFailPolicy(where, options.failPolicy, 'open'),
      timeout: common.timeout,
    });
    this.runner = new Runner(kit, 'counter', common.name, this.options.failPolicy, common.timeout);
  }

  /** The Redis key of counter `id` (for `MEMORY USAGE`, debugging). */
  key(id: string | number): string {
    return this.kit.keys.key('counter', this.options.name, argId('counter.key', 'id', id));
  }

  /** Adds `by` (a positive integer, default 1); resolves the new value, or null when failing open. */
  incr(id: string | number, by = 1): Promise<number | null> {
    return this.add('incr', id, by);
  }

  /** Subtracts `by` (a positive integer, default 1); the value may go below zero. */
  decr(id: string | number, by = 1): Promise<number | null> {
    return this.add('decr', id, by);
  }

  private async add(op: 'incr' | 'decr', id: string | number, by: number): Promise<number | null> {
    const key = this.key(id);
    const amount = argInteger(`counter.${op}`, 'by', by, 1);
    const { ttl, ttlMode } = this.options;
    return this.runner.write(op, (redis) =>
      incrScript.call(redis, [key], [op === 'incr' ? amount : -amount, ttl, ttlMode]).then(Number),
    );
  }

  /** The current value; 0 when the counter does not exist. Rejects with a coded error when Redis fails. */
  async get(id: string | number): Promise<number> {
    const key = this.key(id);
    const value = await this.runner.read('get', (redis) => redis.get(key));
    return value === null ? 0 : Number(value);
  }

  /** Deletes the counter; resolves its value before the reset (0 if none). Always fails closed. */
  async reset(id: string | number): Promise<number> {
    const key = this.key(id);
    const previous = await this.runner.strictWrite('reset', (redis) => redis.getdel(key));
    this.runner.emitReset(String(id), previous === null ? 0 : 1);
    return previous === null ? 0 : Number(previous);
  }
}

/**
 * Creates a {@link Counter}. Bad options throw a RedisKitError
 * (ERR_REDISKIT_INVALID_OPTION / ERR_REDISKIT_UNKNOWN_OPTION).
 *
 * @example
 * const logins = createCounter(kit, { name: 'logins', ttl: 3_600_000, ttlMode: 'sliding' });
 */
export function createCounter(kit: RedisKit, options: CounterOptions): Counter {
  return new Counter(kit, options);
}
