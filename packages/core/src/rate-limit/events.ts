import type { RedisKitError } from '../errors';

/** Where a rate-limit decision came from. */
export type DecisionSource = 'redis' | 'local' | 'block-cache' | 'fail-open' | 'cost';

/** What a rate limiter does when Redis cannot decide. */
export type RateLimitFailPolicy = 'open' | 'closed' | 'local';

/** Events of the rate-limit engine, emitted on the context's `events`. Names are `'ratelimit:<event>'`. */
export interface RateLimitEvents {
  /** A request was admitted. `policies` lists every policy it was checked against. */
  'ratelimit:allowed': {
    limiter: string;
    key: string;
    policies: string[];
    cost: number;
    source: DecisionSource;
  };
  /**
   * A request was rejected, or would have been in shadow mode (`shadow: true`:
   * it was let through). `policies` lists the policies it violated.
   */
  'ratelimit:limited': {
    limiter: string;
    key: string;
    policies: string[];
    cost: number;
    retryAfterMs: number;
    shadow: boolean;
    source: DecisionSource;
  };
  /** A policy's remaining quota fell to or below its near-limit threshold with this request. */
  'ratelimit:near-limit': {
    limiter: string;
    key: string;
    policy: string;
    remaining: number;
    limit: number;
  };
  /** Redis could not decide; `failPolicy` says what the caller got. */
  'ratelimit:store-error': {
    limiter: string;
    operation: string;
    policies: string[];
    failPolicy: RateLimitFailPolicy;
    error: RedisKitError;
  };
  /** A request was let through unchecked because Redis could not decide (fail policy `open`). */
  'ratelimit:fail-open': {
    limiter: string;
    key: string;
    policies: string[];
  };
}
