import type { LockTarget } from './resources';

/** `held` until released or found lost. */
export type LockState = 'held' | 'released' | 'lost';

/** What the manager keeps about a lock it handed out. Not public. */
export interface LockRecord {
  readonly target: LockTarget;
  readonly token: string;
  readonly fence: number;
  ttl: number;
  /** Local monotonic time (performance.now()) until which the lock is valid. */
  validUntil: number;
  state: LockState;
  /** A release was sent but its reply never came: it may have run. */
  releaseInDoubt?: boolean;
  readonly owner: LockOwner;
}

/** What a {@link Lock} delegates to (the manager that issued it). */
export interface LockOwner {
  extend(lock: Lock, ttl?: number): Promise<void>;
  release(lock: Lock): Promise<void>;
}

const records = new WeakMap<Lock, LockRecord>();

/** The manager's view of a lock; undefined for an object that is not a lock it issued. */
export function recordOf(lock: unknown): LockRecord | undefined {
  return typeof lock === 'object' && lock !== null ? records.get(lock as Lock) : undefined;
}

/**
 * A held lock, from `acquire()`, `tryAcquire()` or `using()`.
 *
 * @example
 * const lock = await locks.acquire('invoice:42', { ttl: 10_000 });
 * try {
 *   await invoices.write(42, data, { fence: lock.fence });
 * } finally {
 *   await lock.release();
 * }
 */
export class Lock {
  /** The resources this lock covers (one for a single-resource lock). */
  readonly resources: readonly string[];
  /**
   * The fencing token: strictly greater than every token issued before for
   * these resources, to any owner. Pass it to the resource you protect and
   * have it reject writes with a smaller token than it has seen.
   */
  readonly fence: number;
  /** Replicas that acknowledged the lock (with `waitForReplicas`), else undefined. */
  readonly replicas: number | undefined;

  /** @internal Locks come from a {@link LockManager}; constructing one yourself gives nothing usable. */
  constructor(record: LockRecord, replicas?: number) {
    records.set(this, record);
    this.resources = record.target.resources;
    this.fence = record.fence;
    this.replicas = replicas;
  }

  /** The first (for a single-resource lock, the only) resource. */
  get resource(): string {
    return this.resources[0]!;
  }

  /** The owner token (>= 128 random bits) that identifies this holder in Redis. */
  get token(): string {
    return records.get(this)!.token;
  }

  /** `held`, `released` (by this holder) or `lost` (found expired or taken). */
  get state(): LockState {
    return records.get(this)!.state;
  }

  /**
   * Milliseconds the lock is still valid by this process's clock, after the
   * time the acquire (or last extend) took and the drift allowance; 0 once
   * it has run out or the lock is no longer held. Work that must not outlive
   * the lock checks this, and still needs fencing (a pause right after the
   * check defeats any check).
   */
  remaining(): number {
    const r = records.get(this)!;
    if (r.state !== 'held') return 0;
    return Math.max(0, Math.floor(r.validUntil - performance.now()));
  }

  /**
   * Gives the lock a new ttl (default: the ttl it was acquired with), only if
   * this holder still has it. Rejects with ERR_REDISKIT_LOCK_NOT_OWNER when it
   * expired or was taken (it is never re-acquired), ERR_REDISKIT_UNAVAILABLE
   * when Redis cannot be reached.
   */
  extend(ttl?: number): Promise<void> {
    return records.get(this)!.owner.extend(this, ttl);
  }

  /**
   * Deletes the lock if this holder still has it. Rejects with
   * ERR_REDISKIT_LOCK_NOT_OWNER when it had expired or been taken (the work
   * done under it may have overlapped with another holder's), and
   * ERR_REDISKIT_UNAVAILABLE when Redis cannot be reached (the lock then
   * expires after its ttl). Releasing twice is a no-op.
   */
  release(): Promise<void> {
    return records.get(this)!.owner.release(this);
  }

  /** For logs: never includes the owner token. */
  toJSON(): { resources: readonly string[]; fence: number; state: LockState; remaining: number } {
    return { resources: this.resources, fence: this.fence, state: this.state, remaining: this.remaining() };
  }
}
