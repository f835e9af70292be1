import { RedisKitError } from '../errors';
import { LUA } from '../generated/lua';
import { optNumber } from '../options';
import { defineScript, type RedisKit } from '../redis';
import { CompletionSignals, type Signal } from '../redis/completion-signals';
import { randomToken } from '../redis/random-token';
import type { LockLostReason } from './events';
import { Lock, recordOf, type LockOwner, type LockRecord } from './lock';
import {
  resolveAcquire,
  resolveLockOptions,
  type AcquireOptions,
  type LockManagerOptions,
  type ReplicaWaitOptions,
  type ResolvedAcquire,
  type ResolvedLockOptions,
  type TryAcquireOptions,
} from './options';
import { connectionForKey } from './replicas';
import { lockTarget, type LockTarget } from './resources';

type AcquireReply = [1, number, 0 | 1] | [0, number];

const acquireScript = defineScript<AcquireReply>(LUA.lockAcquire);
const extendScript = defineScript<1 | 0 | -1>(LUA.lockExtend);
const releaseScript = defineScript<1 | 0 | -1>(LUA.lockRelease);
const statusScript = defineScript<[string | null, number, string | null]>(LUA.lockStatus);

const FEATURE = 'lock';
const TARGET_CACHE_SIZE = 1000;

/** What {@link LockManager.status} reports about a resource. */
export interface LockStatus {
  /** Someone holds the lock now. */
  held: boolean;
  /** The holder's fencing token, or null. */
  fence: number | null;
  /** The holder's remaining ttl in ms, or null. */
  ttl: number | null;
  /** The last fencing token issued for the resource's hash tag (null once the counter expired). */
  lastFence: number | null;
}

/** The work `using()` runs while it holds the lock. */
export type LockedFunction<T> = (signal: AbortSignal, lock: Lock) => T | Promise<T>;

/** 144 random bits, base64url: unguessable, and unique across every process. */
function newOwnerToken(): string {
  return randomToken(18, 'base64url');
}

function isTransient(error: RedisKitError): boolean {
  return error.code === 'ERR_REDISKIT_UNAVAILABLE' || error.code === 'ERR_REDISKIT_TIMEOUT';
}

/** Lock operations fail closed with one code for "Redis did not serve this"; the original stays as `cause`. */
function asUnavailable(error: RedisKitError, operation: string): RedisKitError {
  if (!isTransient(error) || error.code === 'ERR_REDISKIT_UNAVAILABLE') return error;
  return new RedisKitError('ERR_REDISKIT_UNAVAILABLE', `lock ${operation}: ${error.message}`, {
    cause: error,
    details: { operation: `lock ${operation}`, reason: 'timeout' },
  });
}

function named(resources: readonly string[]): string {
  return resources.length === 1 ? JSON.stringify(resources[0]) : JSON.stringify(resources);
}

function notOwner(record: LockRecord, operation: string, why: LockLostReason | 'released'): RedisKitError {
  const text = {
    released: 'it was already released',
    expired: 'it expired',
    taken: 'another owner holds it now',
    unavailable: 'it could not be extended in time',
  }[why];
  return new RedisKitError(
    'ERR_REDISKIT_LOCK_NOT_OWNER',
    `lock ${operation} of ${named(record.target.resources)}: this holder no longer has the lock (${text})`,
    { details: { resources: record.target.resources, fence: record.fence, reason: why } },
  );
}

function lockLost(record: LockRecord, reason: LockLostReason, cause?: unknown): RedisKitError {
  const text = {
    expired: 'it expired or was deleted before it could be extended',
    taken: 'another owner holds it now',
    unavailable: 'Redis could not be reached to extend it before its validity ran out',
  }[reason];
  return new RedisKitError('ERR_REDISKIT_LOCK_LOST', `lock on ${named(record.target.resources)} lost: ${text}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { resources: record.target.resources, fence: record.fence, reason },
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits for `wake` (a release on the lock's channel) or `ms`, whichever comes first; rejects when `abort` fires. */
function wakeOrTimeout(wake: Signal, ms: number, abort: AbortSignal | undefined): Promise<void> {
  if (!abort) return wake.next(ms).then(() => undefined);
  if (abort.aborted) return Promise.reject(abort.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abort.reason);
    abort.addEventListener('abort', onAbort, { once: true });
    void wake.next(ms).then(() => {
      abort.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

// One subscriber connection per context for every lock manager on it (managers
// are cheap and may be made per request), opened when an acquire first waits.
const wakeUps = new WeakMap<RedisKit, CompletionSignals>();

function wakeUpsOf(kit: RedisKit): CompletionSignals {
  let signals = wakeUps.get(kit);
  if (!signals) {
    // One waiter per process tries per release (only one can win); a channel
    // stays subscribed for a second after its last waiter, so a busy lock is
    // not subscribed again for every wait.
    signals = new CompletionSignals(kit, { linger: 1000, wakeOne: true });
    wakeUps.set(kit, signals);
  }
  return signals;
}

/**
 * Distributed locks on one Redis (standalone, Sentinel or Cluster) with owner
 * tokens and fencing tokens. Fails closed: when Redis cannot be reached no
 * lock is granted (ERR_REDISKIT_UNAVAILABLE). Holds no connection or timer of
 * its own, so creating one per request is cheap; one per app is usual.
 *
 * @example
 * const locks = createLockManager(kit, { ttl: 15_000 });
 * const total = await locks.using('report:daily', async (signal, lock) => {
 *   const rows = await db.query('...', { signal });
 *   await reports.save(rows, { fence: lock.fence }); // the store rejects stale fences
 *   return rows.length;
 * });
 */
export class LockManager implements LockOwner {
  readonly options: ResolvedLockOptions;
  private readonly targets = new Map<string, LockTarget>();

  constructor(
    readonly kit: RedisKit,
    options: LockManagerOptions = {},
  ) {
    if (!kit || typeof (kit as Partial<RedisKit>).attempt !== 'function') {
      throw new RedisKitError('ERR_REDISKIT_NO_CONNECTION', 'createLockManager: the first argument must be a RedisKit context');
    }
    this.options = resolveLockOptions(options);
  }

  /**
   * Takes the lock, waiting up to `timeout` while another owner holds it.
   * Rejects with ERR_REDISKIT_LOCK_CONTENDED when the timeout is reached,
   * ERR_REDISKIT_UNAVAILABLE when Redis cannot be reached (fails closed), and
   * ERR_REDISKIT_CROSS_SLOT for resources that do not share a hash tag.
   *
   * @example
   * const lock = await locks.acquire('invoice:42', { ttl: 5000, timeout: 2000 });
   * try { await work(lock.fence); } finally { await lock.release(); }
   *
   * // several resources at once: one hash tag
   * const both = await locks.acquire(['{order:42}:items', '{order:42}:payment']);
   */
  async acquire(resources: string | readonly string[], options?: AcquireOptions): Promise<Lock> {
    const call = resolveAcquire('lock.acquire', options, this.options);
    const target = this.targetOf(resources, 'lock.acquire');
    const started = performance.now();
    const taken = await this.take(target, call, 'acquire');
    if (taken) return taken;
    throw new RedisKitError(
      'ERR_REDISKIT_LOCK_CONTENDED',
      `lock.acquire of ${named(target.resources)}: held by another owner for the whole ${call.timeout} ms timeout`,
      { details: { resources: target.resources, timeout: call.timeout, waited: Math.round(performance.now() - started) } },
    );
  }

  /**
   * One attempt: the lock, or null when another owner holds it. Rejects with
   * ERR_REDISKIT_UNAVAILABLE when Redis cannot be reached.
   *
   * @example
   * const lock = await locks.tryAcquire('cron:cleanup', { ttl: 60_000 });
   * if (!lock) return; // another instance runs it
   */
  async tryAcquire(resources: string | readonly string[], options?: TryAcquireOptions): Promise<Lock | null> {
    const call = resolveAcquire('lock.tryAcquire', options, this.options, true);
    const target = this.targetOf(resources, 'lock.tryAcquire');
    return this.take(target, call, 'tryAcquire');
  }

  /**
   * Gives a held lock a new ttl (default: its current ttl) if this holder
   * still has it; never re-acquires an expired lock. Rejects with
   * ERR_REDISKIT_LOCK_NOT_OWNER when it expired or was taken, and
   * ERR_REDISKIT_UNAVAILABLE when Redis cannot be reached.
   *
   * @example
   * await locks.extend(lock, 30_000);
   */
  async extend(lock: Lock, ttl?: number): Promise<void> {
    const record = this.recordFor(lock, 'lock.extend');
    const newTtl = optNumber('lock.extend', 'ttl', ttl, record.ttl, { integer: true, min: 10, max: 2_147_483_647 });
    if (record.state !== 'held') throw notOwner(record, 'extend', record.state === 'released' ? 'released' : 'expired');
    const outcome = await this.renew(record, newTtl);
    if (outcome === 'extended') return;
    if (typeof outcome === 'string') throw notOwner(record, 'extend', outcome);
    throw outcome;
  }

  /**
   * Deletes the lock if this holder still has it. Rejects with
   * ERR_REDISKIT_LOCK_NOT_OWNER when it had expired or been taken (other
   * owners' locks are never touched), ERR_REDISKIT_UNAVAILABLE when Redis
   * cannot be reached (the lock then expires after its ttl). A second
   * release of a released lock does nothing.
   *
   * @example
   * await locks.release(lock);
   */
  async release(lock: Lock): Promise<void> {
    const record = this.recordFor(lock, 'lock.release');
    if (record.state === 'released') return;
    const outcome = await this.drop(record);
    if (outcome === 'released') return;
    if (typeof outcome === 'string') throw notOwner(record, 'release', outcome);
    throw outcome;
  }

  /**
   * Runs `fn` while holding the lock: acquires it (like {@link acquire}),
   * extends it every third of its ttl while `fn` runs, and releases it as soon
   * as `fn` settles. When the lock is lost (it expired, was taken or deleted,
   * or Redis stayed unreachable past its validity) `signal` is aborted with an
   * ERR_REDISKIT_LOCK_LOST error as its reason, and `using` rejects with it
   * (or with `fn`'s own error if `fn` threw). Nothing becomes an unhandled
   * rejection.
   *
   * @example
   * await locks.using('inventory:sku-9', { ttl: 5000 }, async (signal, lock) => {
   *   for (const batch of batches) {
   *     signal.throwIfAborted();           // stop when the lock is gone
   *     await stock.apply(batch, lock.fence);
   *   }
   * });
   */
  using<T>(resources: string | readonly string[], fn: LockedFunction<T>): Promise<T>;
  using<T>(resources: string | readonly string[], options: AcquireOptions, fn: LockedFunction<T>): Promise<T>;
  async using<T>(
    resources: string | readonly string[],
    optionsOrFn: AcquireOptions | LockedFunction<T>,
    maybeFn?: LockedFunction<T>,
  ): Promise<T> {
    const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
    const options = typeof optionsOrFn === 'function' ? undefined : optionsOrFn;
    if (typeof fn !== 'function') {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', 'lock.using needs a function to run: using(resource, [options,] fn)', {
        details: { option: 'lock.using.fn' },
      });
    }
    const lock = await this.acquire(resources, options);
    return this.hold(lock, fn);
  }

  /**
   * Reads who holds a resource, without changing anything. For dashboards and
   * tests; a decision based on it is stale by the time it is made.
   */
  async status(resource: string): Promise<LockStatus> {
    const target = lockTarget(this.kit.keys, resource, 'lock.status');
    const r = await this.kit.attempt(FEATURE, 'status', 'closed', (redis) =>
      statusScript.call(redis, [target.fenceKey, target.keys[0]!]),
    );
    if (!r.ok) throw asUnavailable(r.error, 'status');
    const [fence, pttl, last] = r.value;
    const held = pttl !== -2;
    return {
      held,
      fence: held && fence !== null ? Number(fence) : null,
      ttl: held && pttl >= 0 ? pttl : null,
      lastFence: last === null ? null : Number(last),
    };
  }

  /**
   * The keys of a lock. A single resource's are remembered (the usual case
   * takes the same few locks over and over); the cache is bounded, since the
   * names can be unbounded (one per order).
   */
  private targetOf(resources: string | readonly string[], where: string): LockTarget {
    if (typeof resources !== 'string') return lockTarget(this.kit.keys, resources, where);
    let target = this.targets.get(resources);
    if (!target) {
      target = lockTarget(this.kit.keys, resources, where);
      if (this.targets.size >= TARGET_CACHE_SIZE) this.targets.clear();
      this.targets.set(resources, target);
    }
    return target;
  }

  private drift(ttl: number): number {
    return Math.floor(ttl * this.options.driftFactor) + 2;
  }

  private recordFor(lock: Lock, where: string): LockRecord {
    const record = recordOf(lock);
    if (!record || record.owner !== this) {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${where}: expects a lock issued by this manager`, {
        details: { option: `${where}.lock` },
      });
    }
    return record;
  }

  /**
   * The acquire loop. Every attempt of one call uses the same owner token, so
   * an attempt whose reply was lost (timeout, connection dropped after the
   * script ran) is recognised by the next one instead of blocking it until the
   * ttl. Resolves null when another owner held the lock until the deadline.
   */
  private async take(target: LockTarget, call: ResolvedAcquire, operation: string): Promise<Lock | null> {
    const token = newOwnerToken();
    const started = performance.now();
    const deadline = started + call.timeout;
    const keys = [target.fenceKey, ...target.keys];
    // An acquire that can wait asks the holder's release to wake it.
    const args = [token, call.ttl, Math.max(this.options.fencingRetention, call.ttl), call.timeout > 0 ? '1' : '0'];
    // True while an attempt may have taken the lock without us seeing the reply.
    let uncertain = false;
    let contended = false;
    let lastError: RedisKitError | undefined;
    let attempts = 0;
    let round = 0;
    const giveUp = (error: unknown): unknown => {
      if (uncertain) void this.cleanup(target, token);
      return error;
    };
    // Once contended: the subscription to the hash tag's release channel.
    let wake: Signal | undefined;
    let listened = false;

    try {
      for (;;) {
        if (call.signal?.aborted) throw giveUp(call.signal.reason);
        let hint: number | undefined;
        const sendable = this.kit.available;
        // While Redis is away and no attempt is in doubt, fail closed at once;
        // with one in doubt, keep trying until the deadline to learn its fate.
        if (sendable || !uncertain) {
          attempts++;
          const sent = performance.now();
          const r = await this.kit.attempt(FEATURE, operation, 'closed', (redis) => acquireScript.call(redis, keys, args));
          if (!r.ok) {
            if (!isTransient(r.error) || !sendable) throw giveUp(asUnavailable(r.error, operation));
            uncertain = true;
            contended = false;
            lastError = asUnavailable(r.error, operation);
          } else if (r.value[0] === 1) {
            uncertain = true;
            const [, fence, recovered] = r.value;
            const lock = await this.confirm(target, call, token, fence, sent);
            if (lock instanceof Lock) {
              if (this.kit.events.listenerCount('lock:acquired') > 0) {
                this.kit.events.emit('lock:acquired', {
                  resources: target.resources,
                  fence,
                  attempts,
                  recovered: recovered === 1,
                  waited: Math.round(performance.now() - started),
                });
              }
              return lock;
            }
            uncertain = !(await this.cleanup(target, token));
            if (lock.code !== 'ERR_REDISKIT_UNAVAILABLE' || lock.details.reason !== 'slow') throw giveUp(lock);
            contended = false;
            lastError = lock;
          } else {
            contended = true;
            lastError = undefined;
            if (r.value[1] > 0) hint = r.value[1];
          }
        }
        const left = deadline - performance.now();
        if (left <= 0) {
          if (contended) {
            if (uncertain) void this.cleanup(target, token);
            this.kit.events.emit('lock:contended', {
              resources: target.resources,
              attempts,
              waited: Math.round(performance.now() - started),
            });
            return null;
          }
          throw giveUp(
            lastError ??
              new RedisKitError('ERR_REDISKIT_UNAVAILABLE', `lock ${operation}: Redis did not answer before the timeout`, {
                details: { operation: `lock ${operation}` },
              }),
          );
        }
        // First time the lock is held by another owner: listen for its release,
        // then try again at once (a release between the attempt and the
        // subscription published to nobody). Without a subscription (Redis
        // slow or away) the acquire polls as before.
        if (contended && !listened) {
          listened = true;
          wake = await this.listenForRelease(target, Math.min(left, this.kit.options.operationTimeout));
          if (wake) continue;
        }
        round++;
        const { delay, maxDelay, jitter } = call.retry;
        const backoff = Math.min(maxDelay, delay * 2 ** Math.min(round - 1, 20));
        let wait = backoff * (1 - jitter * Math.random());
        // No point sleeping past the moment the holder's lock runs out.
        if (hint !== undefined) wait = Math.min(wait, hint + 1);
        const ms = Math.max(1, Math.min(wait, left));
        try {
          // A release wakes the waiter early; the poll stays for what publishes
          // nothing (a holder that crashed and whose lock expired).
          if (wake && contended) await wakeOrTimeout(wake, ms, call.signal);
          else await sleep(ms, call.signal);
        } catch (error) {
          throw giveUp(error);
        }
      }
    } finally {
      wake?.close();
    }
  }

  /** Subscribes to the release channel of `target`'s hash tag; undefined when that fails (the caller polls). */
  private async listenForRelease(target: LockTarget, timeoutMs: number): Promise<Signal | undefined> {
    if (!this.kit.available || timeoutMs <= 0) return undefined;
    try {
      return await wakeUpsOf(this.kit).listen(target.channel, timeoutMs);
    } catch {
      return undefined;
    }
  }

  /**
   * Turns a granted attempt into a Lock: waits for replicas if asked, and
   * checks that the lock is still valid after the time the attempt took.
   * Returns the error to fail with otherwise (the caller releases the lock).
   */
  private async confirm(
    target: LockTarget,
    call: ResolvedAcquire,
    token: string,
    fence: number,
    sent: number,
  ): Promise<Lock | RedisKitError> {
    let replicas: number | undefined;
    if (call.waitForReplicas) {
      const acked = await this.replicate(target, call.waitForReplicas);
      if (typeof acked !== 'number') return asUnavailable(acked, 'wait');
      if (acked < call.waitForReplicas.replicas) {
        return new RedisKitError(
          'ERR_REDISKIT_UNAVAILABLE',
          `lock acquire of ${named(target.resources)}: ${acked} of ${call.waitForReplicas.replicas} replicas acknowledged within ${call.waitForReplicas.timeout} ms; released it`,
          { details: { operation: 'lock wait', reason: 'replicas', acknowledged: acked, required: call.waitForReplicas.replicas } },
        );
      }
      replicas = acked;
    }
    const elapsed = performance.now() - sent;
    const validity = call.ttl - elapsed - this.drift(call.ttl);
    if (validity <= 0) {
      return new RedisKitError(
        'ERR_REDISKIT_UNAVAILABLE',
        `lock acquire of ${named(target.resources)}: took ${Math.round(elapsed)} ms, which leaves nothing of the ${call.ttl} ms ttl after the drift allowance; released it`,
        { details: { operation: 'lock acquire', reason: 'slow', elapsed: Math.round(elapsed), ttl: call.ttl } },
      );
    }
    const record: LockRecord = {
      target,
      token,
      fence,
      ttl: call.ttl,
      validUntil: sent + call.ttl - this.drift(call.ttl),
      state: 'held',
      owner: this,
    };
    return new Lock(record, replicas);
  }

  private async replicate(target: LockTarget, wait: ReplicaWaitOptions): Promise<number | RedisKitError> {
    const r = await this.kit.attempt(
      FEATURE,
      'wait',
      'closed',
      (redis) => connectionForKey(redis, target.keys[0]!).wait(wait.replicas, wait.timeout),
      { timeout: wait.timeout + this.kit.options.operationTimeout },
    );
    return r.ok ? Number(r.value) : r.error;
  }

  /** Deletes whatever this token holds; never throws. True when Redis answered. */
  private async cleanup(target: LockTarget, token: string): Promise<boolean> {
    try {
      const r = await this.kit.attempt(FEATURE, 'release', 'closed', (redis) => releaseScript.call(redis, target.keys, [token, target.channel]));
      return r.ok;
    } catch {
      return false;
    }
  }

  private markLost(record: LockRecord, reason: LockLostReason): void {
    if (record.state !== 'held') return;
    record.state = 'lost';
    this.kit.events.emit('lock:lost', { resources: record.target.resources, fence: record.fence, reason });
  }

  /** One owner-checked extension: 'extended', the reason the lock is gone, or the Redis error. */
  private async renew(record: LockRecord, ttl: number): Promise<'extended' | LockLostReason | RedisKitError> {
    const sent = performance.now();
    const r = await this.kit.attempt(FEATURE, 'extend', 'closed', (redis) =>
      extendScript.call(redis, record.target.keys, [record.token, ttl]),
    );
    if (!r.ok) return asUnavailable(r.error, 'extend');
    if (r.value === 1) {
      if (record.state === 'held') {
        record.ttl = ttl;
        record.validUntil = sent + ttl - this.drift(ttl);
        this.kit.events.emit('lock:extended', { resources: record.target.resources, fence: record.fence, ttl });
      }
      return 'extended';
    }
    const reason: LockLostReason = r.value === 0 ? 'expired' : 'taken';
    this.markLost(record, reason);
    return reason;
  }

  /** One owner-checked release: 'released', the reason the lock was already gone, or the Redis error. */
  private async drop(record: LockRecord): Promise<'released' | LockLostReason | RedisKitError> {
    const sendable = this.kit.available;
    const r = await this.kit.attempt(FEATURE, 'release', 'closed', (redis) =>
      releaseScript.call(redis, record.target.keys, [record.token, record.target.channel]),
    );
    if (!r.ok) {
      if (sendable && isTransient(r.error)) record.releaseInDoubt = true;
      return asUnavailable(r.error, 'release');
    }
    // A release retried after one whose reply was lost finds the lock gone
    // because that one ran: it is released, not lost.
    if (r.value === 1 || (r.value === 0 && record.releaseInDoubt)) {
      const wasHeld = record.state === 'held';
      record.state = 'released';
      if (wasHeld && this.kit.events.listenerCount('lock:released') > 0) {
        this.kit.events.emit('lock:released', { resources: record.target.resources, fence: record.fence });
      }
      return 'released';
    }
    const reason: LockLostReason = r.value === 0 ? 'expired' : 'taken';
    this.markLost(record, reason);
    return reason;
  }

  /** `using()` after the acquire: the watchdog, `fn`, the release. */
  private async hold<T>(lock: Lock, fn: LockedFunction<T>): Promise<T> {
    const record = recordOf(lock)!;
    const controller = new AbortController();
    let settled = false;
    let renewTimer: NodeJS.Timeout | undefined;
    let expiryTimer: NodeJS.Timeout | undefined;
    let lastFailure: RedisKitError | undefined;

    const stop = () => {
      clearTimeout(renewTimer);
      clearTimeout(expiryTimer);
    };
    // fn may release the lock itself before it ends: that is not a loss.
    const releasedByFn = () => record.state === 'released';
    const lose = (reason: LockLostReason, cause?: unknown) => {
      if (settled || controller.signal.aborted || releasedByFn()) return;
      stop();
      this.markLost(record, reason);
      controller.abort(lockLost(record, reason, cause));
    };
    // Without a confirmed extension, the lock is presumed gone once its
    // local validity runs out: another owner may hold it from then on.
    const armExpiry = () => {
      clearTimeout(expiryTimer);
      expiryTimer = setTimeout(
        () => lose(lastFailure ? 'unavailable' : 'expired', lastFailure),
        Math.max(0, record.validUntil - performance.now()),
      );
      expiryTimer.unref();
    };
    const schedule = (ms: number) => {
      renewTimer = setTimeout(() => {
        renew().catch((error: unknown) => lose('unavailable', error));
      }, ms);
      renewTimer.unref();
    };
    const renew = async () => {
      if (settled || controller.signal.aborted || releasedByFn()) return;
      const outcome = await this.renew(record, record.ttl);
      if (settled || controller.signal.aborted || releasedByFn()) return;
      if (outcome === 'extended') {
        lastFailure = undefined;
        armExpiry();
        schedule(Math.max(1, Math.floor(record.ttl / 3)));
      } else if (typeof outcome === 'string') {
        lose(outcome);
      } else if (!isTransient(outcome) || record.validUntil <= performance.now()) {
        lose('unavailable', outcome);
      } else {
        lastFailure = outcome;
        schedule(Math.min(250, Math.max(10, Math.floor(record.ttl / 10))));
      }
    };

    armExpiry();
    schedule(Math.max(1, Math.floor(record.ttl / 3)));
    let result: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      result = { ok: true, value: await fn(controller.signal, lock) };
    } catch (error) {
      result = { ok: false, error };
    }
    settled = true;
    stop();
    const validAtEnd = record.state === 'held' && record.validUntil > performance.now();
    let lost: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
    const released = releasedByFn() ? 'released' : await this.drop(record);
    if (lost === undefined) {
      if (released === 'expired' || released === 'taken') lost = lockLost(record, released);
      else if (released !== 'released' && !validAtEnd) lost = lockLost(record, 'unavailable', released);
    }
    if (!result.ok) throw result.error;
    if (lost !== undefined) throw lost;
    return result.value;
  }
}

/**
 * Creates a lock manager on a context. Options are defaults for every
 * acquire; bad options throw ERR_REDISKIT_INVALID_OPTION here.
 *
 * @example
 * const locks = createLockManager(kit, { ttl: 10_000, timeout: 5_000 });
 * const lock = await locks.tryAcquire('nightly-export');
 */
export function createLockManager(kit: RedisKit, options?: LockManagerOptions): LockManager {
  return new LockManager(kit, options);
}
