import type { RedisKitError } from '../errors';
import type { FailPolicy } from '../redis/fail-policy';

/** Events of the context itself: connection health and failures of any feature. */
export interface CoreEvents {
  /** Redis answers: the context left `connecting` or `degraded`. */
  ready: { previous: RedisKitState };
  /** Redis stopped answering (connection lost or operations timing out). */
  degraded: { reason: 'connection-lost' | 'timeouts' | 'error'; error?: Error };
  /** `close()` finished. */
  closed: Record<string, never>;
  /**
   * A feature's Redis operation failed and its fail policy was applied.
   * `policy` says what the caller got: `open` (the feature carried on without
   * Redis) or `closed` (the caller got an error).
   */
  'store-error': { feature: string; operation: string; policy: FailPolicy; error: RedisKitError };
  /** A feature's operation succeeded again after failures. */
  recovered: { feature: string; failures: number };
  /** An advisory check fired (risky but working setup). */
  advisory: { name: string; message: string };
}

/** Health of a {@link RedisKit} context. */
export type RedisKitState = 'connecting' | 'ready' | 'degraded' | 'closed';
