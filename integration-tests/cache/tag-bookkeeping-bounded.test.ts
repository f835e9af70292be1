import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCache, createRedisKit, type RedisKit } from '@rediskit/core';
import { startRedis, waitFor, type StartedRedis } from '@rediskit/testing';
import { kitOn } from './topology';

const N = 10_000;
// Long enough that every entry is still alive when the fill ends, even on a
// loaded CI machine where writing 10,000 entries takes seconds.
const FILL_TTL = 6000;

async function fill(kit: RedisKit, ttl: number): Promise<void> {
  // A generous store timeout: this test is about bookkeeping, not timeouts.
  const cache = createCache(kit, { fillHorizon: 3000, storeTimeout: 5000 });
  const batch = 500;
  for (let i = 0; i < N; i += batch) {
    const stored = await Promise.all(
      Array.from({ length: Math.min(batch, N - i) }, (_, j) => {
        const n = i + j;
        return cache.set(`item:${n}`, { n, pad: 'x'.repeat(100) }, { ttl, tags: [`item:${n}`, `group:${n % 100}`, 'all'] });
      }),
    );
    expect(stored.every(Boolean)).toBe(true);
  }
  // Purges leave records too: they must expire as well.
  await cache.purgeTags(['group:1', 'group:2', 'never-used']);
}

/** Keys the servers have expired so far (INFO stats, summed over the masters). */
async function expiredKeys(kit: RedisKit): Promise<number> {
  let n = 0;
  for (const node of kit.masters()) n += Number(/expired_keys:(\d+)/.exec(await node.info('stats'))![1]);
  return n;
}

/**
 * At least two keys per entry (its own, and the record of its unique tag) were
 * written: counted as the keys alive now plus those expired since the
 * baseline, since the first entries may expire before the
 * fill ends on a slow machine.
 */
function expectFilled(alive: number, expired: number): void {
  expect(alive + expired).toBeGreaterThan(2 * N);
}

// Correctness property 2: tag bookkeeping is bounded. Once the entries
// expire, keys and memory are back at the baseline with no sweep, cron or
// keyspace notifications: every record carries a TTL as long as the entries
// that need it.
describe('tag bookkeeping', () => {
  describe('on a Redis of its own (memory measured)', () => {
    let redis: StartedRedis;
    let kit: RedisKit;
    beforeAll(async () => {
      redis = await startRedis();
      kit = createRedisKit({ url: redis.url, prefix: 'bounded', operationTimeout: 5000, logger: false });
      await kit.ready();
    });
    afterAll(async () => {
      await kit.close();
      await redis.stop();
    });

    it(`returns to the baseline of keys and memory after ${N} tagged entries expire`, async () => {
      const info = async () => {
        const text = await kit.exec((r) => (r as import('ioredis').Redis).info('memory'));
        return Number(/used_memory:(\d+)/.exec(text)![1]);
      };
      const dbsize = () => kit.exec((r) => (r as import('ioredis').Redis).dbsize());
      const baseKeys = await dbsize();
      const baseMemory = await info();
      const baseExpired = await expiredKeys(kit);
      await fill(kit, FILL_TTL);
      const peakKeys = await dbsize();
      const peakMemory = await info();
      expectFilled(peakKeys - baseKeys, (await expiredKeys(kit)) - baseExpired);
      await waitFor('every cache key to expire', async () => (await dbsize()) === baseKeys, 60_000, 250);
      await waitFor('memory back near the baseline', async () => (await info()) - baseMemory < (peakMemory - baseMemory) / 10, 30_000, 250);
    }, 120_000);
  });

  describe('on the Cluster', () => {
    let kit: RedisKit;
    beforeAll(async () => {
      kit = await kitOn('cluster', undefined, { operationTimeout: 5000 });
    });
    afterAll(() => kit.close());

    it(`leaves no key of ${N} tagged entries behind once they expire`, async () => {
      const count = async () => {
        let n = 0;
        for await (const _ of kit.scan(`${kit.keys.prefix}:*`)) n++;
        return n;
      };
      const baseExpired = await expiredKeys(kit);
      await fill(kit, FILL_TTL);
      expectFilled(await count(), (await expiredKeys(kit)) - baseExpired);
      await waitFor('every cache key to expire', async () => (await count()) === 0, 60_000, 500);
    }, 120_000);
  });
});
