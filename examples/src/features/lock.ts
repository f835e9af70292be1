import {
  createLockManager,
  isRedisKitError,
  problemResponse,
  unavailableProblem,
  type LockManager,
  type RedisKit,
} from '@rediskit/core';
import { getRedisKit, sendPlain } from '@rediskit/express';
import type { Response } from 'express';
import type { DemoFeature } from './types';

const COUNTER = 'demo:counter';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The protected resource of the demo: it remembers the highest fencing token
 * it has accepted and refuses writes that carry a smaller one, which is what
 * makes a lock safe against a holder that paused past its ttl.
 */
class FencedStore {
  highest = 0;
  value = '';
  accepted = 0;
  rejected = 0;

  write(fence: number, value: string): boolean {
    if (fence <= this.highest) {
      this.rejected++;
      return false;
    }
    this.highest = fence;
    this.value = value;
    this.accepted++;
    return true;
  }
}

/** Holds the counter's last value, fenced by the counter lock's tokens. */
const store = new FencedStore();
let staleWritesRefused = 0;
const managers = new WeakMap<RedisKit, LockManager>();

/** One manager per context, made on first use from the handler's context. */
function locksOf(kit: RedisKit): LockManager {
  let locks = managers.get(kit);
  if (!locks) {
    locks = createLockManager(kit, { ttl: 5000, timeout: 10_000 });
    managers.set(kit, locks);
  }
  return locks;
}

function sendLockError(res: Response, error: unknown): void {
  if (isRedisKitError(error, 'ERR_REDISKIT_LOCK_CONTENDED')) {
    sendPlain(
      res,
      problemResponse(
        { type: 'https://rediskit.dev/problems/lock-contended', title: 'Busy', status: 409, detail: error.message },
        { 'retry-after': '1' },
      ),
    );
  } else if (isRedisKitError(error, 'ERR_REDISKIT_UNAVAILABLE')) {
    sendPlain(res, unavailableProblem('The lock service'));
  } else {
    res.status(500).json({ error: (error as { code?: string }).code ?? String(error) });
  }
}

/** Distributed locks: a serialized critical section, and fencing tokens stopping a stale holder. */
export const lockFeature: DemoFeature = {
  name: 'Locks',
  routes: [
    {
      method: 'POST',
      path: '/lock/increment',
      description:
        'A slow read-modify-write of a Redis counter inside using(): run it several times at once, each request waits its turn and gets the next value and a larger fencing token',
      curl: 'for i in 1 2 3 4 5; do curl -s -X POST localhost:$PORT/lock/increment & done; wait',
    },
    {
      method: 'POST',
      path: '/lock/stale-holder',
      description:
        'Replays the pause problem: holder A pauses past its ttl, B takes the lock and writes; A wakes and writes with its old fencing token, and the fenced store refuses it',
      curl: 'curl -s -X POST localhost:$PORT/lock/stale-holder',
    },
  ],
  mount(app) {
    app.post('/lock/increment', async (req, res) => {
      const kit = getRedisKit(req);
      const counterKey = kit.keys.key('demo', 'lock-counter');
      try {
        const result = await locksOf(kit).using(COUNTER, async (signal, lock) => {
          const before = Number((await kit.exec((r) => r.get(counterKey), { timeout: 1000 })) ?? 0);
          await sleep(300); // a slow step between the read and the write
          signal.throwIfAborted(); // the lock is gone: do not write
          await kit.exec((r) => r.set(counterKey, String(before + 1), 'PX', 86_400_000), { timeout: 1000 });
          store.write(lock.fence, `counter=${before + 1}`);
          return { value: before + 1, fence: lock.fence };
        });
        res.json(result);
      } catch (error) {
        sendLockError(res, error);
      }
    });

    app.post('/lock/stale-holder', async (req, res) => {
      const locks = locksOf(getRedisKit(req));
      const resource = `demo:stale:${Date.now()}`;
      const steps: string[] = [];
      // Tokens are compared per resource: this scenario gets its own store.
      const scenario = new FencedStore();
      try {
        const a = await locks.acquire(resource, { ttl: 300 });
        steps.push(`A acquired ${resource} with fence ${a.fence} (ttl 300 ms, not extended)`);
        await sleep(600); // a long GC pause, a stalled VM, a slow network...
        steps.push(`A paused for 600 ms; its lock has ${a.remaining()} ms of validity left`);
        const b = await locks.acquire(resource, { ttl: 5000 });
        steps.push(`B acquired the lock with fence ${b.fence}`);
        steps.push(`B writes: ${scenario.write(b.fence, 'written by B') ? 'accepted' : 'REJECTED'}`);
        const stale = scenario.write(a.fence, 'written by A');
        if (!stale) staleWritesRefused++;
        steps.push(`A wakes and writes with fence ${a.fence}: ${stale ? 'ACCEPTED' : 'rejected as stale'}`);
        const late = await a.release().catch((e: { code?: string }) => e.code);
        steps.push(`A releases: ${late ?? 'ok'}; B still holds the lock: ${(await locks.status(resource)).fence === b.fence}`);
        await b.release();
        res.json({ steps, store: { value: scenario.value, highestFence: scenario.highest } });
      } catch (error) {
        sendLockError(res, error);
      }
    });
  },
  async panel(kit) {
    const status = await locksOf(kit).status(COUNTER);
    return {
      'counter lock': status.held ? `held, fence ${status.fence}, ${status.ttl} ms left` : 'free',
      'last fencing token': status.lastFence ?? 'none yet',
      'counter store': `value ${store.value || 'none'}, highest fence ${store.highest}, ${store.rejected} stale writes refused`,
      'stale-holder writes refused': staleWritesRefused,
    };
  },
};
