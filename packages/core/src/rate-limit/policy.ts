import { RedisKitError } from '../errors';
import { assertKnownOptions, invalidOption, optEnum, optNumber, optString } from '../options';

/**
 * How a policy counts:
 * - `fixed-window`: a counter per window that starts with the first counted
 *   request; up to 2x `limit` can pass around a window boundary.
 * - `sliding-window`: a weighted two-window counter; smooth, approximate
 *   (see docs/rate-limit.md for its measured error and bound).
 * - `token-bucket`: `burst` tokens, refilled continuously at `limit` per `window`.
 * - `gcra`: the generic cell rate algorithm: the same decisions as a token
 *   bucket, stored as one integer.
 * - `concurrency`: at most `limit` requests in flight at once.
 */
export type RateLimitAlgorithm = 'fixed-window' | 'sliding-window' | 'token-bucket' | 'gcra' | 'concurrency';

export const ALGORITHMS: readonly RateLimitAlgorithm[] = [
  'fixed-window',
  'sliding-window',
  'token-bucket',
  'gcra',
  'concurrency',
];

/** Algorithm codes shared with the Lua scripts. */
export const ALGORITHM_CODE: Record<RateLimitAlgorithm, 1 | 2 | 3 | 4 | 5> = {
  'fixed-window': 1,
  'sliding-window': 2,
  'token-bucket': 3,
  gcra: 4,
  concurrency: 5,
};

/**
 * One letter per algorithm, the first character of a policy's state key
 * after the hash tag (`b` is a block key), so a changed algorithm never reads
 * another's state. One letter keeps a client's key short (its name is part
 * of what Redis stores per client).
 */
export const ALGORITHM_KEY: Record<RateLimitAlgorithm, string> = {
  'fixed-window': 'f',
  'sliding-window': 's',
  'token-bucket': 't',
  gcra: 'g',
  concurrency: 'c',
};

/** The key letter of a policy's block key. */
export const BLOCK_KEY = 'b';

/**
 * One limit a request must satisfy.
 *
 * @example
 * { name: 'per-second', algorithm: 'gcra', limit: 10, window: 1000, burst: 20 }
 * { name: 'in-flight', algorithm: 'concurrency', limit: 4 }
 */
export interface RateLimitPolicyOptions {
  /**
   * Shown to clients in the RateLimit headers and part of the Redis key, so
   * keep it stable. Default `'default'` for a single policy, else
   * `'<limit>-per-<window>'` (`'10-per-1s'`) or `'<limit>-concurrent'`.
   */
  name?: string;
  /** Default `'sliding-window'`. */
  algorithm?: RateLimitAlgorithm;
  /** Units per window (requests, unless a cost says otherwise); in-flight requests for `concurrency`. */
  limit: number;
  /** Window in ms (>= 1). Required except for `concurrency`. */
  window?: number;
  /** Token bucket and GCRA: units that may pass at once. Default `limit`. */
  burst?: number;
  /** After this policy rejects, reject the client for this many ms. Default 0 (no block). */
  blockDuration?: number;
  /** Concurrency: the Retry-After hint of a rejected request, in ms. Default 1000. */
  retryAfter?: number;
}

/** A policy after validation and defaults. */
export interface ResolvedPolicy {
  readonly name: string;
  readonly algorithm: RateLimitAlgorithm;
  readonly code: 1 | 2 | 3 | 4 | 5;
  readonly limit: number;
  /** Window in ms; 0 for concurrency. */
  readonly window: number;
  /** Token bucket and GCRA burst; the retry hint for concurrency; equal to limit otherwise. */
  readonly burst: number;
  readonly blockDuration: number;
  /** Most units one request can ever be charged: above it a cost never fits. */
  readonly capacity: number;
}

export const POLICY_OPTIONS = ['name', 'algorithm', 'limit', 'window', 'burst', 'blockDuration', 'retryAfter'] as const;

// Lua keeps every value an exact integer below 2^53; these bounds leave margin
// for the products the scripts compute (limit x window, burst x window).
const MAX_LIMIT = 1_000_000_000;
const MAX_WINDOW = 366 * 24 * 3600 * 1000;
const MAX_PRODUCT = 2 ** 50;

function formatWindow(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/**
 * The default name of a policy among several.
 *
 * @example
 * defaultPolicyName({ algorithm: 'gcra', limit: 10, window: 1000 }); // '10-per-1s'
 */
export function defaultPolicyName(p: { algorithm: RateLimitAlgorithm; limit: number; window: number }): string {
  return p.algorithm === 'concurrency' ? `${p.limit}-concurrent` : `${p.limit}-per-${formatWindow(p.window)}`;
}

const NAME_PATTERN = /^[\x20-\x7e]{1,64}$/;

/**
 * Validates one policy; `where` names it in errors (`rateLimit.policies[1]`).
 * Throws ERR_REDISKIT_INVALID_OPTION / ERR_REDISKIT_UNKNOWN_OPTION.
 *
 * @example
 * resolvePolicy('rateLimit', { algorithm: 'gcra', limit: 10, window: 1000 }, true);
 * // { name: 'default', algorithm: 'gcra', limit: 10, window: 1000, burst: 10, capacity: 10, ... }
 */
export function resolvePolicy(where: string, options: unknown, single: boolean, extraKnown: readonly string[] = []): ResolvedPolicy {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${where} must be a policy object`, { details: { option: where } });
  }
  assertKnownOptions(where, options, [...POLICY_OPTIONS, ...extraKnown]);
  const o = options as RateLimitPolicyOptions;
  const algorithm = optEnum(where, 'algorithm', o.algorithm, ALGORITHMS, 'sliding-window');
  const limit = optNumber(where, 'limit', o.limit, undefined, { integer: true, min: 1, max: MAX_LIMIT });
  if (limit === undefined) invalidOption(where, 'limit', 'an integer >= 1', o.limit);
  let window = 0;
  if (algorithm === 'concurrency') {
    if (o.window !== undefined) invalidOption(where, 'window', 'absent for a concurrency policy (it has no window)', o.window);
    if (o.burst !== undefined) invalidOption(where, 'burst', 'absent for a concurrency policy', o.burst);
  } else {
    const w = optNumber(where, 'window', o.window, undefined, { integer: true, min: 1, max: MAX_WINDOW });
    if (w === undefined) invalidOption(where, 'window', 'an integer number of ms >= 1', o.window);
    window = w;
  }
  if (o.retryAfter !== undefined && algorithm !== 'concurrency') {
    invalidOption(where, 'retryAfter', 'set only on a concurrency policy (others compute Retry-After)', o.retryAfter);
  }
  if (o.burst !== undefined && algorithm !== 'token-bucket' && algorithm !== 'gcra') {
    invalidOption(where, 'burst', 'set only on a token-bucket or gcra policy', o.burst);
  }
  let burst = optNumber(where, 'burst', o.burst, limit, { integer: true, min: 1, max: MAX_LIMIT });
  if (algorithm === 'concurrency') {
    burst = optNumber(where, 'retryAfter', o.retryAfter, 1000, { integer: true, min: 1, max: MAX_WINDOW });
  }
  const blockDuration = optNumber(where, 'blockDuration', o.blockDuration, 0, { integer: true, min: 0, max: MAX_WINDOW });
  if (algorithm === 'sliding-window' && limit * window > MAX_PRODUCT) {
    invalidOption(where, 'limit', `small enough that limit x window <= 2^50 (got ${limit} x ${window})`, limit);
  }
  if (algorithm === 'token-bucket' && burst * window > MAX_PRODUCT) {
    invalidOption(where, 'burst', `small enough that burst x window <= 2^50 (got ${burst} x ${window})`, burst);
  }
  if (algorithm === 'gcra' && window * 1000 < limit) {
    invalidOption(where, 'limit', 'at most 1000 per ms of window (GCRA works in microseconds)', limit);
  }
  const name =
    optString(where, 'name', o.name, undefined, {
      pattern: NAME_PATTERN,
      describe: 'printable ASCII, 1 to 64 characters',
    }) ?? (single ? 'default' : defaultPolicyName({ algorithm, limit, window }));
  return Object.freeze({
    name,
    algorithm,
    code: ALGORITHM_CODE[algorithm],
    limit,
    window,
    burst,
    blockDuration,
    capacity: algorithm === 'token-bucket' || algorithm === 'gcra' ? burst : limit,
  });
}

/**
 * Validates a non-empty list of policies with unique names.
 *
 * @example
 * resolvePolicies('limiter.policies', [{ limit: 10, window: 1000 }, { limit: 100, window: 60_000 }]);
 * // names '10-per-1s' and '100-per-1m'
 */
export function resolvePolicies(where: string, list: unknown, extraKnown: readonly string[] = []): ResolvedPolicy[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${where} must be a non-empty array of policies`, {
      details: { option: where },
    });
  }
  if (list.length > 16) {
    throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${where} holds ${list.length} policies; at most 16`, {
      details: { option: where },
    });
  }
  const resolved = list.map((p, i) => resolvePolicy(`${where}[${i}]`, p, list.length === 1, extraKnown));
  const seen = new Set<string>();
  resolved.forEach((p, i) => {
    if (seen.has(p.name)) {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${where}[${i}].name "${p.name}" is used twice; policy names must be unique`, {
        details: { option: `${where}[${i}].name` },
      });
    }
    seen.add(p.name);
  });
  return resolved;
}
