import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { isRedisKitError } from '../errors';
import type { RedisKitEventMap } from '../events';
import { createRedisKit, type RedisKit } from '../redis';
import { createLockManager, type LockManager } from './lock-manager';
import type { Lock } from './lock';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (error) {
    return isRedisKitError(error) ? error.code : `not coded: ${String(error)}`;
  }
}

function thrownCode(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return isRedisKitError(error) ? error.code : `not coded: ${String(error)}`;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects the context's lock events by name. */
function recordEvents(kit: RedisKit) {
  const seen: Array<{ name: string; payload: unknown }> = [];
  kit.events.onAny((name, payload) => {
    if (name.startsWith('lock:') || name === 'store-error') seen.push({ name, payload });
  });
  return {
    of<K extends keyof RedisKitEventMap>(name: K): Array<RedisKitEventMap[K]> {
      return seen.filter((e) => e.name === name).map((e) => e.payload as RedisKitEventMap[K]);
    },
  };
}

let url: string;
let prefix: string;
const kits: RedisKit[] = [];

async function newKit(): Promise<RedisKit> {
  // Generous operation timeout: the machine running the tests is shared and busy.
  const kit = createRedisKit({ url, prefix, logger: false, operationTimeout: 2000 });
  kits.push(kit);
  await kit.ready();
  return kit;
}

beforeAll(async () => {
  url = await sharedRedisUrl();
});
afterEach(async () => {
  await Promise.all(kits.splice(0).map((k) => k.close()));
});

describe('lock options', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    prefix = uniquePrefix('lock-opts');
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix, logger: false });
  });
  afterAll(() => kit.close());

  it('rejects bad configuration with coded errors at construction', () => {
    expect(thrownCode(() => createLockManager(kit, { ttl: 0 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(thrownCode(() => createLockManager(kit, { ttl: 1.5 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(thrownCode(() => createLockManager(kit, { ttl: '5s' as never }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(thrownCode(() => createLockManager(kit, { timeout: -1 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(thrownCode(() => createLockManager(kit, { driftFactor: 0.9 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(thrownCode(() => createLockManager(kit, { retry: { delay: 0 } }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(thrownCode(() => createLockManager(kit, { retry: { delay: 500, maxDelay: 100 } }))).toBe(
      'ERR_REDISKIT_INVALID_OPTION',
    );
    expect(thrownCode(() => createLockManager(kit, { retry: { jitter: 2 } }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(thrownCode(() => createLockManager(kit, { retry: { dealy: 5 } as never }))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(thrownCode(() => createLockManager(kit, { waitForReplicas: { replicas: 0, timeout: 10 } }))).toBe(
      'ERR_REDISKIT_INVALID_OPTION',
    );
    expect(thrownCode(() => createLockManager(kit, { waitForReplicas: { replicas: 1 } as never }))).toBe(
      'ERR_REDISKIT_INVALID_OPTION',
    );
    expect(thrownCode(() => createLockManager(kit, { waitForReplicas: true as never }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(thrownCode(() => createLockManager(kit, { ttl: 60_000, fencingRetention: 5_000 }))).toBe(
      'ERR_REDISKIT_INVALID_OPTION',
    );
    expect(thrownCode(() => createLockManager({} as never))).toBe('ERR_REDISKIT_NO_CONNECTION');
    let hint = '';
    try {
      createLockManager(kit, { tll: 5 } as never);
    } catch (error) {
      hint = (error as Error).message;
    }
    expect(hint).toContain('did you mean "ttl"');
  });

  it('freezes the resolved options with their defaults', () => {
    const locks = createLockManager(kit);
    expect(locks.options).toEqual({
      ttl: 30_000,
      timeout: 10_000,
      retry: { delay: 50, maxDelay: 1000, jitter: 0.5 },
      driftFactor: 0.01,
      waitForReplicas: false,
      fencingRetention: 3_600_000,
    });
    expect(Object.isFrozen(locks.options)).toBe(true);
    expect(createLockManager(kit, { ttl: 7_200_000 }).options.fencingRetention).toBe(7_200_000);
  });

  it('rejects bad per-call options and resources before touching Redis', async () => {
    const locks = createLockManager(kit);
    expect(await codeOf(locks.acquire('a', { ttl: -5 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(await codeOf(locks.acquire('a', { tiemout: 5 } as never))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(await codeOf(locks.tryAcquire('a', { timeout: 5 } as never))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(await codeOf(locks.acquire(''))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(await codeOf(locks.acquire([]))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(await codeOf(locks.acquire([42] as never))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(await codeOf(locks.acquire('a', { signal: 'stop' as never }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(await codeOf(locks.using('a', {} as never))).toBe('ERR_REDISKIT_INVALID_OPTION');
  });
});

describe('locks on standalone Redis', () => {
  let locks: LockManager;
  let kit: RedisKit;
  beforeAll(() => {
    prefix = uniquePrefix('lock');
  });
  beforeEach(async () => {
    kit = await newKit();
    locks = createLockManager(kit, { ttl: 10_000, timeout: 0, retry: { delay: 10, maxDelay: 50 } });
  });

  it('100 concurrent tryAcquire calls from several processes-worth of connections give exactly one winner', async () => {
    const managers = await Promise.all([1, 2, 3, 4].map(async () => createLockManager(await newKit())));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => managers[i % managers.length]!.tryAcquire('report:daily', { ttl: 10_000 })),
    );
    const winners = results.filter((r): r is Lock => r !== null);
    expect(winners).toHaveLength(1);
    const status = await locks.status('report:daily');
    expect(status).toMatchObject({ held: true, fence: winners[0]!.fence });
    await winners[0]!.release();
    expect((await locks.status('report:daily')).held).toBe(false);
  });

  it('gives each owner a token of at least 128 random bits and never stores a key without a ttl', async () => {
    const a = (await locks.tryAcquire('tokens:a'))!;
    const b = (await locks.tryAcquire('tokens:b'))!;
    expect(Buffer.from(a.token, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(a.token).not.toBe(b.token);
    expect(JSON.stringify(a)).not.toContain(a.token);
    const keys: string[] = [];
    for await (const key of kit.scan(`${prefix}:*`)) keys.push(key);
    expect(keys.length).toBeGreaterThanOrEqual(4); // two locks, two fencing counters
    for (const key of keys) expect(await kit.redis.pttl(key)).toBeGreaterThan(0);
    await a.release();
    await b.release();
  });

  it('waits for a held lock and gets it once the holder releases', async () => {
    const holder = (await locks.tryAcquire('queue:7'))!;
    const waiting = locks.acquire('queue:7', { timeout: 20_000 });
    await sleep(100);
    await holder.release();
    const next = await waiting;
    expect(next.fence).toBeGreaterThan(holder.fence);
    await next.release();
  });

  it('a release wakes waiters at once, in every process, instead of at their next poll', async () => {
    // Waiters that would poll again only after a minute: they can only get
    // the lock within this test's timeout if the release wakes them.
    const slow = { timeout: 50_000, retry: { delay: 60_000, maxDelay: 60_000, jitter: 0 } };
    const elsewhere = createLockManager(await newKit());
    const holder = (await locks.tryAcquire('wake:1', { ttl: 60_000 }))!;
    const here = locks.acquire('wake:1', slow);
    const there = elsewhere.acquire('wake:1', slow);
    await sleep(100);
    await holder.release();
    // One of them wins the lock; its release wakes the other.
    const first = await Promise.race([here.then((lock) => ({ lock, other: there })), there.then((lock) => ({ lock, other: here }))]);
    await first.lock.release();
    const second = await first.other;
    expect(second.fence).toBeGreaterThan(first.lock.fence);
    await second.release();
  }, 15_000);

  it('rejects with ERR_REDISKIT_LOCK_CONTENDED when the acquire timeout is reached', async () => {
    const events = recordEvents(kit);
    const holder = (await locks.tryAcquire('busy'))!;
    const other = createLockManager(await newKit());
    expect(await codeOf(other.acquire('busy', { timeout: 300, retry: { delay: 20, maxDelay: 50 } }))).toBe(
      'ERR_REDISKIT_LOCK_CONTENDED',
    );
    expect(await locks.tryAcquire('busy')).toBeNull();
    await holder.release();
    expect(events.of('lock:contended')[0]).toMatchObject({ resources: ['busy'] });
    expect(events.of('lock:acquired')[0]).toMatchObject({ resources: ['busy'], fence: holder.fence, recovered: false });
    expect(events.of('lock:released')[0]).toMatchObject({ resources: ['busy'], fence: holder.fence });
  });

  it('a lock stolen after expiry cannot be released or extended by the old owner', async () => {
    const events = recordEvents(kit);
    const old = (await locks.tryAcquire('stolen', { ttl: 200 }))!;
    await waitFor('the lock to expire', async () => (await locks.status('stolen')).held === false, 10_000, 20);
    const thief = createLockManager(await newKit());
    const next = (await thief.tryAcquire('stolen', { ttl: 10_000 }))!;
    expect(next).not.toBeNull();
    expect(next.fence).toBeGreaterThan(old.fence);

    const release = await old.release().catch((e: unknown) => e);
    expect(release).toMatchObject({ code: 'ERR_REDISKIT_LOCK_NOT_OWNER', details: { reason: 'taken' } });
    expect(await codeOf(old.extend(10_000))).toBe('ERR_REDISKIT_LOCK_NOT_OWNER');
    expect(old.state).toBe('lost');
    expect(old.remaining()).toBe(0);
    // The new holder still has it, with its own fence and ttl.
    const status = await locks.status('stolen');
    expect(status).toMatchObject({ held: true, fence: next.fence });
    expect(status.ttl).toBeGreaterThan(200);
    expect(events.of('lock:lost')).toEqual([{ resources: ['stolen'], fence: old.fence, reason: 'taken' }]);
    await next.release();
  });

  it('extend never re-acquires an expired lock', async () => {
    const lock = (await locks.tryAcquire('lapsed', { ttl: 100 }))!;
    await waitFor('the lock to expire', async () => (await locks.status('lapsed')).held === false, 10_000, 20);
    const error = await lock.extend(10_000).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_REDISKIT_LOCK_NOT_OWNER', details: { reason: 'expired' } });
    expect((await locks.status('lapsed')).held).toBe(false);
  });

  it('extend gives a held lock a new ttl; release twice is a no-op; extend after release is refused', async () => {
    const lock = (await locks.tryAcquire('extend-me', { ttl: 1000 }))!;
    await lock.extend(60_000);
    expect((await locks.status('extend-me')).ttl).toBeGreaterThan(30_000);
    expect(lock.remaining()).toBeGreaterThan(30_000);
    await lock.release();
    await lock.release();
    expect(lock.state).toBe('released');
    expect(await codeOf(lock.extend())).toBe('ERR_REDISKIT_LOCK_NOT_OWNER');
    expect(await codeOf(locks.release({} as Lock))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(await codeOf(createLockManager(kit).release(lock))).toBe('ERR_REDISKIT_INVALID_OPTION');
  });

  it('fencing tokens strictly increase across owners, in the order the lock was held', async () => {
    const managers = await Promise.all([1, 2, 3].map(async () => createLockManager(await newKit(), { ttl: 5000 })));
    const order: number[] = [];
    let inside = 0;
    let overlaps = 0;
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        managers[i % 3]!.using('ledger', { timeout: 30_000, retry: { delay: 5, maxDelay: 40 } }, async (_signal, lock) => {
          inside++;
          if (inside > 1) overlaps++;
          order.push(lock.fence);
          await sleep(2);
          inside--;
        }),
      ),
    );
    expect(overlaps).toBe(0);
    expect(order).toHaveLength(30);
    for (let i = 1; i < order.length; i++) expect(order[i]!).toBeGreaterThan(order[i - 1]!);
    expect((await locks.status('ledger')).lastFence).toBe(order[order.length - 1]);
  });

  it('a resource that remembers the highest fence rejects the stale holder', async () => {
    // The pattern docs/locks.md describes: the protected store checks tokens.
    const store = { fence: 0, value: '', write(fence: number, value: string) {
      if (fence <= this.fence) return false;
      this.fence = fence;
      this.value = value;
      return true;
    } };
    const slow = (await locks.tryAcquire('doc', { ttl: 100 }))!;
    await waitFor('the slow holder to lose its lock', async () => (await locks.status('doc')).held === false, 10_000, 20);
    const fast = (await locks.tryAcquire('doc'))!;
    expect(store.write(fast.fence, 'from the new holder')).toBe(true);
    expect(store.write(slow.fence, 'from the paused holder')).toBe(false);
    expect(store.value).toBe('from the new holder');
    await fast.release();
  });

  it('locks several resources under one hash tag all or nothing, and refuses resources without a shared tag', async () => {
    const both = (await locks.tryAcquire(['{order:42}:items', '{order:42}:payment']))!;
    expect(both.resources).toEqual(['{order:42}:items', '{order:42}:payment']);
    expect(await locks.tryAcquire('{order:42}:payment')).toBeNull();
    await both.release();

    const one = (await locks.tryAcquire('{order:43}:payment'))!;
    expect(await locks.tryAcquire(['{order:43}:items', '{order:43}:payment'])).toBeNull();
    // The failed multi-lock took nothing: items is still free.
    const items = (await locks.tryAcquire('{order:43}:items'))!;
    expect(items).not.toBeNull();
    expect(items.fence).toBeGreaterThan(one.fence);
    await Promise.all([one.release(), items.release()]);

    const error = await locks.tryAcquire(['order:1', 'order:2']).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_REDISKIT_CROSS_SLOT' });
    expect((error as Error).message).toContain('hash tag');
    // Duplicates collapse; a user-supplied brace cannot escape the key's tag.
    const dup = (await locks.tryAcquire(['x}{y', 'x}{y']))!;
    expect(dup.resources).toEqual(['x}{y']);
    await dup.release();
  });

  it('using runs fn under the lock, returns its value and releases promptly', async () => {
    const result = await locks.using('job', async (signal, lock) => {
      expect(signal.aborted).toBe(false);
      expect((await locks.status('job')).fence).toBe(lock.fence);
      return 'done';
    });
    expect(result).toBe('done');
    expect((await locks.status('job')).held).toBe(false);

    const failure = new Error('handler failed');
    await expect(
      locks.using('job', () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect((await locks.status('job')).held).toBe(false);
  });

  it('using lets fn release the lock early without calling it lost', async () => {
    const events = recordEvents(kit);
    const result = await locks.using('early', { ttl: 300 }, async (signal, lock) => {
      await lock.release();
      // Past the point where the watchdog would have extended it.
      await sleep(400);
      return signal.aborted ? 'aborted' : 'ok';
    });
    expect(result).toBe('ok');
    expect(events.of('lock:lost')).toEqual([]);
    expect(events.of('lock:released')).toHaveLength(1);
  });

  it('using with a handler running 3x the ttl keeps the lock the whole time', async () => {
    const events = recordEvents(kit);
    const ttl = 1500;
    const other = createLockManager(await newKit());
    let stolen = 0;
    const result = await locks.using('long-job', { ttl }, async (signal) => {
      const end = Date.now() + 3 * ttl;
      while (Date.now() < end) {
        if (await other.tryAcquire('long-job')) stolen++;
        await sleep(100);
      }
      return signal.aborted ? 'aborted' : 'finished';
    });
    expect(result).toBe('finished');
    expect(stolen).toBe(0);
    expect(events.of('lock:extended').length).toBeGreaterThanOrEqual(2);
    expect(events.of('lock:lost')).toEqual([]);
    expect((await locks.status('long-job')).held).toBe(false);
  });

  it('a deleted key mid-using aborts the signal within the ttl, without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const ttl = 3000;
      let abortedWith: unknown;
      const outcome = await locks
        .using('deleted', { ttl }, async (signal, lock) => {
          await kit.redis.del(...(await keysOf(kit, 'deleted')));
          await waitFor('the signal to abort', async () => signal.aborted, ttl, 20);
          abortedWith = signal.reason;
          expect(lock.state).toBe('lost');
          signal.throwIfAborted();
        })
        .catch((e: unknown) => e);
      expect(abortedWith).toMatchObject({ code: 'ERR_REDISKIT_LOCK_LOST', details: { reason: 'expired' } });
      expect(outcome).toBe(abortedWith);
      // A handler that ignores the signal and returns still learns it lost the lock.
      const ignored = await locks
        .using('deleted', { ttl }, async (signal) => {
          await kit.redis.del(...(await keysOf(kit, 'deleted')));
          await waitFor('the signal to abort', async () => signal.aborted, ttl, 20);
          return 'ignored';
        })
        .catch((e: unknown) => e);
      expect(ignored).toMatchObject({ code: 'ERR_REDISKIT_LOCK_LOST' });
      await sleep(50);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a holder paused past its ttl finds its using() signal aborted and its lock with the new owner', async () => {
    const ttl = 300;
    const thief = createLockManager(await newKit(), { timeout: 10_000 });
    let thiefLock: Lock | undefined;
    const outcome = await locks
      .using('paused', { ttl }, async (signal, lock) => {
        // A synchronous stall (a long GC, a CPU-bound loop): timers cannot fire.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ttl * 3);
        expect(lock.remaining()).toBe(0);
        thiefLock = await thief.acquire('paused');
        await waitFor('the signal to abort', async () => signal.aborted, 10_000, 20);
        return 'wrote anyway';
      })
      .catch((e: unknown) => e);
    expect(outcome).toMatchObject({ code: 'ERR_REDISKIT_LOCK_LOST' });
    expect((await locks.status('paused')).fence).toBe(thiefLock!.fence);
    await thiefLock!.release();
  });

  it('an acquire signal stops the wait', async () => {
    const holder = (await locks.tryAcquire('waiting'))!;
    const controller = new AbortController();
    const waiting = locks.acquire('waiting', { timeout: 30_000 , signal: controller.signal }).catch((e: unknown) => e);
    await sleep(50);
    controller.abort(new Error('client went away'));
    expect(await waiting).toMatchObject({ message: 'client went away' });
    await holder.release();
  });

  it('fails closed when replicas cannot acknowledge, and leaves nothing behind', async () => {
    // The shared standalone server has no replicas: WAIT answers 0.
    const error = await locks
      .tryAcquire('durable', { waitForReplicas: { replicas: 1, timeout: 20 } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_REDISKIT_UNAVAILABLE', details: { reason: 'replicas', acknowledged: 0 } });
    expect((await locks.status('durable')).held).toBe(false);
  });
});

/** The lock keys of a resource, found by scanning (tests only). */
async function keysOf(kit: RedisKit, resource: string): Promise<string[]> {
  const found: string[] = [];
  const tag = kit.keys.entity('lock', resource);
  for await (const key of kit.scan(tag.pattern())) if (!key.endsWith(':fence')) found.push(key);
  return found;
}
