/** Why a holder no longer has its lock. */
export type LockLostReason =
  /** The lock key is gone: it expired (the holder paused or could not extend in time) or was deleted. */
  | 'expired'
  /** Another owner holds it now. */
  | 'taken'
  /** Redis could not be reached to extend it before its validity ran out. */
  | 'unavailable';

/** Events of the lock engine, emitted on the context's `events`. Names are `'lock:<event>'`. */
export interface LockEvents {
  /**
   * A lock was taken. `recovered` is true when an earlier attempt of the same
   * acquire had already taken it but its reply was lost (the retry found its
   * own token). `waited` is the time the acquire took, in ms.
   */
  'lock:acquired': {
    resources: readonly string[];
    fence: number;
    attempts: number;
    recovered: boolean;
    waited: number;
  };
  /** An acquire gave up because another owner held the lock until its timeout. */
  'lock:contended': { resources: readonly string[]; attempts: number; waited: number };
  /** A held lock got a new ttl (by `extend()` or by `using()`'s automatic extension). */
  'lock:extended': { resources: readonly string[]; fence: number; ttl: number };
  /** A lock was released by its owner. */
  'lock:released': { resources: readonly string[]; fence: number };
  /** A holder learned that its lock is gone (emitted once per lock). */
  'lock:lost': { resources: readonly string[]; fence: number; reason: LockLostReason };
}
