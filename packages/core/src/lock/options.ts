import { assertKnownOptions, invalidOption, optNumber } from '../options';

/** Backoff between acquire attempts while another owner holds the lock. */
export interface LockRetryOptions {
  /** First wait, in ms. Default 50. */
  delay?: number;
  /** Longest wait; the wait doubles after each attempt up to this. Default 1000. */
  maxDelay?: number;
  /** Fraction of each wait that is random (0: none, 1: full jitter). Default 0.5. */
  jitter?: number;
}

/** `WAIT` for replica acknowledgement after an acquire. */
export interface ReplicaWaitOptions {
  /** Replicas that must have the lock before the acquire succeeds. At least 1. */
  replicas: number;
  /** Longest wait for them, in ms. At least 1 (WAIT with 0 would wait forever). */
  timeout: number;
}

/**
 * Options of {@link createLockManager}: defaults for every acquire made
 * through the manager. `acquire()` and `using()` take the same options per call.
 */
export interface LockManagerOptions {
  /** How long a lock lives unless extended, in ms. Default 30000. */
  ttl?: number;
  /** How long `acquire()` waits for a held lock before ERR_REDISKIT_LOCK_CONTENDED, in ms. Default 10000; 0 tries once. */
  timeout?: number;
  /** Backoff between attempts while the lock is held. */
  retry?: LockRetryOptions;
  /**
   * Allowance for clock drift between Redis and this process, as a fraction of
   * the ttl (plus 2 ms). A lock is considered valid locally for
   * `ttl - acquire time - drift`. Default 0.01.
   */
  driftFactor?: number;
  /** After each acquire, wait for replicas to acknowledge the lock; `false` (the default) does not wait. */
  waitForReplicas?: ReplicaWaitOptions | false;
  /**
   * How long the fencing counter of a hash tag is kept after its last acquire,
   * in ms (at least the ttl). Tokens stay increasing after it expires as long
   * as the Redis clock does not go back by more than this. Default 3600000 (1 h).
   */
  fencingRetention?: number;
}

/** Per-call options of `acquire()` and `using()`. */
export interface AcquireOptions {
  ttl?: number;
  timeout?: number;
  retry?: LockRetryOptions;
  waitForReplicas?: ReplicaWaitOptions | false;
  /** Stops waiting when aborted: the acquire rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Per-call options of `tryAcquire()`: one attempt, no waiting. */
export type TryAcquireOptions = Omit<AcquireOptions, 'timeout' | 'retry'>;

export interface ResolvedRetry {
  readonly delay: number;
  readonly maxDelay: number;
  readonly jitter: number;
}

/** The manager's options after defaults, frozen. */
export interface ResolvedLockOptions {
  readonly ttl: number;
  readonly timeout: number;
  readonly retry: ResolvedRetry;
  readonly driftFactor: number;
  readonly waitForReplicas: Readonly<ReplicaWaitOptions> | false;
  readonly fencingRetention: number;
}

/** Options of one acquire, after the manager's defaults are applied. */
export interface ResolvedAcquire {
  readonly ttl: number;
  readonly timeout: number;
  readonly retry: ResolvedRetry;
  readonly waitForReplicas: Readonly<ReplicaWaitOptions> | false;
  readonly signal: AbortSignal | undefined;
}

/**
 * The defaults a manager applies to options not given.
 *
 * @example
 * const locks = createLockManager(kit, { ttl: LOCK_DEFAULTS.ttl * 2 });
 */
export const LOCK_DEFAULTS = Object.freeze({
  ttl: 30_000,
  timeout: 10_000,
  retry: Object.freeze({ delay: 50, maxDelay: 1000, jitter: 0.5 }),
  driftFactor: 0.01,
  waitForReplicas: false as const,
  fencingRetention: 3_600_000,
});

/** Longest ttl PEXPIRE accepts that still fits a 32-bit timer in Node. */
const MAX_TTL = 2_147_483_647;

const MANAGER_KEYS = ['ttl', 'timeout', 'retry', 'driftFactor', 'waitForReplicas', 'fencingRetention'] as const;
const ACQUIRE_KEYS = ['ttl', 'timeout', 'retry', 'waitForReplicas', 'signal'] as const;
const TRY_KEYS = ['ttl', 'waitForReplicas', 'signal'] as const;
const RETRY_KEYS = ['delay', 'maxDelay', 'jitter'] as const;
const WAIT_KEYS = ['replicas', 'timeout'] as const;

const ttlOf = (where: string, value: unknown, fallback: number) =>
  optNumber(where, 'ttl', value, fallback, { integer: true, min: 10, max: MAX_TTL });

const timeoutOf = (where: string, value: unknown, fallback: number) =>
  optNumber(where, 'timeout', value, fallback, { integer: true, min: 0, max: MAX_TTL });

function retryOf(where: string, value: unknown, fallback: ResolvedRetry): ResolvedRetry {
  if (value === undefined) return fallback;
  assertKnownOptions(`${where}.retry`, value, RETRY_KEYS);
  const r = value as LockRetryOptions;
  const w = `${where}.retry`;
  const delay = optNumber(w, 'delay', r.delay, fallback.delay, { integer: true, min: 1, max: 60_000 });
  const maxDelay = optNumber(w, 'maxDelay', r.maxDelay, Math.max(fallback.maxDelay, delay), {
    integer: true,
    min: 1,
    max: 600_000,
  });
  if (maxDelay < delay) invalidOption(w, 'maxDelay', `>= retry.delay (${delay})`, maxDelay);
  const jitter = optNumber(w, 'jitter', r.jitter, fallback.jitter, { min: 0, max: 1 });
  return Object.freeze({ delay, maxDelay, jitter });
}

function replicasOf(
  where: string,
  value: unknown,
  fallback: Readonly<ReplicaWaitOptions> | false,
): Readonly<ReplicaWaitOptions> | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    invalidOption(where, 'waitForReplicas', 'false or { replicas, timeout }', value);
  }
  assertKnownOptions(`${where}.waitForReplicas`, value, WAIT_KEYS);
  const v = value as Partial<ReplicaWaitOptions>;
  const w = `${where}.waitForReplicas`;
  if (v.replicas === undefined) invalidOption(w, 'replicas', 'an integer >= 1', undefined);
  if (v.timeout === undefined) invalidOption(w, 'timeout', 'an integer >= 1 (ms)', undefined);
  return Object.freeze({
    replicas: optNumber(w, 'replicas', v.replicas, 1, { integer: true, min: 1, max: 64 }),
    timeout: optNumber(w, 'timeout', v.timeout, 1, { integer: true, min: 1, max: 60_000 }),
  });
}

/** Validates and freezes the manager's options; throws ERR_REDISKIT_INVALID_OPTION / _UNKNOWN_OPTION. */
export function resolveLockOptions(options: LockManagerOptions | undefined): ResolvedLockOptions {
  const where = 'lock';
  assertKnownOptions(where, options, MANAGER_KEYS);
  const o = options ?? {};
  const ttl = ttlOf(where, o.ttl, LOCK_DEFAULTS.ttl);
  const fencingRetention = optNumber(where, 'fencingRetention', o.fencingRetention, Math.max(LOCK_DEFAULTS.fencingRetention, ttl), {
    integer: true,
    min: 1000,
    max: MAX_TTL,
  });
  if (fencingRetention < ttl) invalidOption(where, 'fencingRetention', `>= ttl (${ttl})`, fencingRetention);
  return Object.freeze({
    ttl,
    timeout: timeoutOf(where, o.timeout, LOCK_DEFAULTS.timeout),
    retry: retryOf(where, o.retry, LOCK_DEFAULTS.retry),
    driftFactor: optNumber(where, 'driftFactor', o.driftFactor, LOCK_DEFAULTS.driftFactor, { min: 0, max: 0.5 }),
    waitForReplicas: replicasOf(where, o.waitForReplicas, LOCK_DEFAULTS.waitForReplicas),
    fencingRetention,
  });
}

/** Validates one call's options over the manager's defaults. */
export function resolveAcquire(
  where: string,
  options: AcquireOptions | TryAcquireOptions | undefined,
  defaults: ResolvedLockOptions,
  once = false,
): ResolvedAcquire {
  assertKnownOptions(where, options, once ? TRY_KEYS : ACQUIRE_KEYS);
  const o = (options ?? {}) as AcquireOptions;
  const signal = o.signal;
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof signal.aborted !== 'boolean')) {
    invalidOption(where, 'signal', 'an AbortSignal', signal);
  }
  return {
    ttl: ttlOf(where, o.ttl, defaults.ttl),
    timeout: once ? 0 : timeoutOf(where, o.timeout, defaults.timeout),
    retry: once ? defaults.retry : retryOf(where, o.retry, defaults.retry),
    waitForReplicas: replicasOf(where, o.waitForReplicas, defaults.waitForReplicas),
    signal,
  };
}
