import { RedisKitError } from '../errors';
import type { EntityKeys } from '../keys';
import { assertKnownOptions, invalidOption, optEnum, optNumber, optString } from '../options';
import type { FailPolicy } from '../redis/fail-policy';
import type { RedisKit } from '../redis/redis-kit';
import type { RedisScript, ScriptArg } from '../redis/script';
import type { RedisClient } from '../redis/types';
import { resolvePeriod, type Period } from './periods';

/** The building blocks of this folder, as named in events and errors. */
export type StructureKind = 'counter' | 'windowed-counter' | 'unique-counter' | 'flags' | 'leaderboard';

/**
 * When a key's TTL starts: `'fixed'` sets it on the first write and never
 * moves it (a quota that resets a day after it started), `'sliding'` restarts
 * it on every write (the structure expires after `ttl` without writes).
 */
export type TtlMode = 'fixed' | 'sliding';

/** The feature name under which store errors of every structure are reported. */
export const FEATURE = 'structures';

/** Validates an `id` / `member` argument: a non-empty string or a finite number. */
export function argId(where: string, name: string, value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.length > 0) return value;
  throw new RedisKitError(
    'ERR_REDISKIT_INVALID_ARGUMENT',
    `${where}: ${name} must be a non-empty string or a finite number; got ${describe(value)}`,
    { details: { argument: name } },
  );
}

/** Validates an integer argument within [min, max]. */
export function argInteger(where: string, name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  throw new RedisKitError(
    'ERR_REDISKIT_INVALID_ARGUMENT',
    `${where}: ${name} must be an integer from ${min} to ${max}; got ${describe(value)}`,
    { details: { argument: name } },
  );
}

/** Validates an argument that must be one of `allowed`. */
export function argEnum<T extends string>(where: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new RedisKitError(
    'ERR_REDISKIT_INVALID_ARGUMENT',
    `${where}: ${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${describe(value)}`,
    { details: { argument: name } },
  );
}

/** Validates a finite number argument. */
export function argFinite(where: string, name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new RedisKitError('ERR_REDISKIT_INVALID_ARGUMENT', `${where}: ${name} must be a finite number; got ${describe(value)}`, {
    details: { argument: name },
  });
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Options every structure takes. */
export interface CommonOptions {
  /** Names the structure in keys and events; required. Two structures of one kind with one name share data. */
  name: string;
  /** Timeout of each Redis call, in ms. Default: the context's `operationTimeout`. */
  timeout?: number;
}

export interface ResolvedCommon {
  readonly name: string;
  readonly timeout: number | undefined;
}

export function resolveCommon(where: string, options: CommonOptions): ResolvedCommon {
  if (options.name === undefined) invalidOption(where, 'name', 'a non-empty string', undefined);
  return {
    name: optString(where, 'name', options.name, ''),
    timeout: optNumber(where, 'timeout', options.timeout, undefined, { min: 1, max: 60_000 }),
  };
}

/** The first checks of every structure's constructor: no unknown option, then `name` and `timeout`. */
export function resolveBase(where: string, options: CommonOptions, known: readonly string[]): ResolvedCommon {
  assertKnownOptions(where, options, known);
  return resolveCommon(where, options);
}

/** {@link resolveBase}, then `period` and the TTL options (`ttl`, `ttlMode`, `retain`) of a structure that can be time-boxed. */
export function resolveTimeboxed(
  where: string,
  options: CommonOptions & ExpiryOptions & { period?: unknown; retain?: number },
  known: readonly string[],
): { common: ResolvedCommon; period: Period | null; expiry: { ttl: number; ttlMode: TtlMode; retain: number } } {
  const common = resolveBase(where, options, known);
  const period = resolvePeriod(where, options.period);
  const expiry = resolveExpiry(where, options, period);
  return { common, period, expiry };
}

/** The `keyOf` a {@link Timebox} takes for an entity: one key per period label, `'all'` when not time-boxed. */
export function periodKeyOf(entity: EntityKeys): (label: string | null) => string {
  return (label) => entity.key(label ?? 'all');
}

export function resolveFailPolicy(where: string, value: unknown, fallback: FailPolicy): FailPolicy {
  return optEnum<FailPolicy>(where, 'failPolicy', value, ['open', 'closed'], fallback);
}

/** TTL options of structures that are not time-boxed. */
export interface ExpiryOptions {
  /** Time to live of each key in ms; omitted: no TTL (the app owns the key and deletes it with `reset`). */
  ttl?: number;
  /** When the TTL starts. Default `'fixed'`. */
  ttlMode?: TtlMode;
}

/** Validates `ttl`/`ttlMode`, and `retain` for time-boxed structures (where `ttl` does not apply). */
export function resolveExpiry(
  where: string,
  options: ExpiryOptions & { retain?: number },
  period: Period | null,
): { ttl: number; ttlMode: TtlMode; retain: number } {
  const ttlMode = optEnum<TtlMode>(where, 'ttlMode', options.ttlMode, ['fixed', 'sliding'], 'fixed');
  if (period) {
    if (options.ttl !== undefined) {
      invalidOption(where, 'ttl', 'omitted when period is set (each period key lives for retain periods)', options.ttl);
    }
    const retain = optNumber(where, 'retain', options.retain, 2, { integer: true, min: 1, max: 1000 });
    return { ttl: 0, ttlMode, retain };
  }
  if (options.retain !== undefined) invalidOption(where, 'retain', 'omitted unless period is set', options.retain);
  const ttl = optNumber(where, 'ttl', options.ttl, 0, { integer: true, min: 1 });
  return { ttl, ttlMode, retain: 0 };
}

/**
 * The app's estimate of the Redis clock: local time plus the offset seen in
 * the last reply. It only picks which period keys to offer a script; the
 * script decides with `TIME`, so a wrong estimate costs one retry, never a
 * wrong period.
 */
export class ServerClock {
  private static readonly clocks = new WeakMap<object, ServerClock>();
  private offset = 0;

  static of(kit: object): ServerClock {
    let clock = ServerClock.clocks.get(kit);
    if (!clock) {
      clock = new ServerClock();
      ServerClock.clocks.set(kit, clock);
    }
    return clock;
  }

  now(): number {
    return Date.now() + this.offset;
  }

  observe(serverMs: number): void {
    if (Number.isFinite(serverMs)) this.offset = serverMs - Date.now();
  }
}

/** What a time-boxed script returned, after the period check. */
export interface TimeboxReply {
  /** Redis time of the call, in ms. */
  now: number;
  /** Index of the current period (0 when not time-boxed). */
  cur: number;
  /** Label of the current period; null when not time-boxed. */
  label: string | null;
  /** The script's own return values. */
  payload: unknown[];
}

/**
 * Calls the time-boxed scripts of this folder. Each takes candidate keys for
 * consecutive periods around the app's estimate of the current one, and the
 * same seven leading ARGV (period length, offset, index of the first
 * candidate, how many past periods it needs, retain, ttl, ttl mode); it reads
 * `TIME`, picks the current period's key among the candidates, and answers
 * `{ 1, now, cur, ... }`, or `{ -1, now }` when the estimate was off by more
 * than one period (then the call is retried once with the corrected clock).
 * Keys are declared up front, so the scripts are Cluster-safe.
 */
export class Timebox {
  readonly clock: ServerClock;

  constructor(
    private readonly kit: RedisKit,
    readonly kind: StructureKind,
    readonly name: string,
    readonly period: Period | null,
    readonly retain: number,
    readonly ttl: number,
    readonly ttlMode: TtlMode,
  ) {
    this.clock = ServerClock.of(kit);
  }

  /** Label of the period holding `t` (Redis ms). */
  labelAt(t: number): string | null {
    return this.period ? this.period.label(this.period.index(t)) : null;
  }

  /**
   * Candidate keys for the periods from `back + 1` before the estimated
   * current one to one after it, oldest first, and the leading ARGV.
   */
  candidates(keyOf: (label: string | null) => string, back: number): { keys: string[]; args: ScriptArg[] } {
    const p = this.period;
    if (!p) return { keys: [keyOf(null)], args: [0, 0, 0, 0, 0, this.ttl, this.ttlMode] };
    const estimate = p.index(this.clock.now());
    const first = estimate - back - 1;
    const keys: string[] = [];
    for (let i = first; i <= estimate + 1; i++) keys.push(keyOf(p.label(i)));
    return { keys, args: [p.ms, p.offset, first, back, this.retain, 0, this.ttlMode] };
  }

  /** Runs `script` with candidates (then `extraKeys`) and ARGV (then `extraArgs`). */
  async call(
    redis: RedisClient,
    script: RedisScript<unknown[]>,
    keyOf: (label: string | null) => string,
    back: number,
    extraKeys: readonly string[] = [],
    extraArgs: readonly ScriptArg[] = [],
  ): Promise<TimeboxReply> {
    for (let attempt = 0; ; attempt++) {
      const { keys, args } = this.candidates(keyOf, back);
      const localBefore = Date.now();
      const reply = await script.call(redis, [...keys, ...extraKeys], [...args, ...extraArgs]);
      const now = Number(reply[1]);
      this.clock.observe(now);
      if (Number(reply[0]) === -1) {
        if (attempt === 0) {
          this.kit.events.emit('structures:clock-skew', {
            structure: this.kind,
            name: this.name,
            skewMs: now - localBefore,
          });
          continue;
        }
        throw new RedisKitError(
          'ERR_REDISKIT_SCRIPT',
          `${this.kind} ${this.name}: the Redis clock moved by more than one period between two calls`,
        );
      }
      const cur = Number(reply[2]);
      return { now, cur, label: this.period ? this.period.label(cur) : null, payload: reply.slice(3) };
    }
  }

  /** Labels of the `count` periods ending with period `cur`, newest first; `[]` when not time-boxed. */
  labelsBack(cur: number, count: number): string[] {
    const p = this.period;
    return p ? Array.from({ length: count }, (_, i) => p.label(cur - i)) : [];
  }

  /** Validates an `ago` argument (periods before the current one, up to `retain - 1`); default 0. */
  agoArg(where: string, value: number | undefined): number {
    return value === undefined ? 0 : argInteger(where, 'ago', value, 0, Math.max(0, this.retain - 1));
  }

  /** Validates a `periods` argument (the current one and those before it, up to `retain`, 1 when not time-boxed); default 1. */
  periodsArg(where: string, value: number | undefined): number {
    return value === undefined ? 1 : argInteger(where, 'periods', value, 1, Math.max(1, this.retain));
  }

  /** Every key this structure may hold for `keyOf` (all retained periods and the slack around them). */
  allKeys(keyOf: (label: string | null) => string): string[] {
    return this.candidates(keyOf, Math.max(0, this.retain - 1)).keys;
  }
}

/**
 * Runs Redis work of one structure under the context's rules (timeout, fail
 * fast, `store-error`): writes apply the structure's fail policy (`open`:
 * resolve `null`), reads always fail closed (throw the coded error), since no
 * made-up number is a safe answer to "how many".
 */
export class Runner {
  constructor(
    private readonly kit: RedisKit,
    private readonly kind: StructureKind,
    private readonly name: string,
    private readonly failPolicy: FailPolicy,
    private readonly timeout: number | undefined,
  ) {}

  write<T>(op: string, fn: (redis: RedisClient) => Promise<T>): Promise<T | null> {
    return this.kit.guard(FEATURE, `${this.kind} ${op} (${this.name})`, this.failPolicy, fn, () => null, this.options());
  }

  /** A write that must not be dropped silently (`reset`, `remove`): fails closed whatever the policy. */
  strictWrite<T>(op: string, fn: (redis: RedisClient) => Promise<T>): Promise<T> {
    return this.read(op, fn);
  }

  /**
   * Deletes `keys` (a `reset` or `clear`), failing closed, then emits
   * `structures:reset` with the number of keys deleted; resolves that number.
   */
  async deleteAll(op: string, id: string, keys: readonly string[]): Promise<number> {
    const deleted = await this.strictWrite(op, (redis) => redis.del(...keys));
    this.emitReset(id, deleted);
    return deleted;
  }

  /** Emits `structures:reset` for `id` (`''` for a whole leaderboard) after `keys` keys were deleted. */
  emitReset(id: string, keys: number): void {
    this.kit.events.emit('structures:reset', { structure: this.kind, name: this.name, id, keys });
  }

  read<T>(op: string, fn: (redis: RedisClient) => Promise<T>): Promise<T> {
    return this.kit.guard(
      FEATURE,
      `${this.kind} ${op} (${this.name})`,
      'closed',
      fn,
      () => {
        throw new RedisKitError('ERR_REDISKIT_UNAVAILABLE');
      },
      this.options(),
    );
  }

  private options(): { timeout?: number } {
    return this.timeout === undefined ? {} : { timeout: this.timeout };
  }
}
