import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCache, type RedisCache, type RedisKit } from '@rediskit/core';
import { kitOn, loseTagRecords, pastThisMillisecond, TOPOLOGIES } from './topology';

// Correctness property 3: losing a tag's record (evicted, deleted) never
// brings back entries that were purged; the entries bound to it become misses.
describe.each(TOPOLOGIES)('on %s', (topology) => {
  let kit: RedisKit;
  let cache: RedisCache;
  beforeAll(async () => {
    kit = await kitOn(topology);
    cache = createCache(kit, { defaults: { ttl: 60_000 } });
  });
  afterAll(() => kit.close());

  it('a purged entry stays purged after its tag record is deleted', async () => {
    await cache.set('a', { v: 1 }, { tags: ['t1'] });
    expect(await cache.get('a')).toEqual({ v: 1 });
    await cache.purgeTags('t1');
    expect(await cache.get('a')).toBeUndefined();
    await loseTagRecords(kit, 't1');
    expect(await cache.get('a')).toBeUndefined();
    await pastThisMillisecond(kit); // the refill below must be stored
    expect(await cache.wrap('a', () => ({ v: 2 }), { tags: ['t1'] })).toEqual({ v: 2 });
    expect(await cache.get('a')).toEqual({ v: 2 });
  });

  it('an entry whose tag record vanished without a purge is a miss, never a stale hit', async () => {
    await cache.set('b', 'kept', { tags: ['t2', 't3'] });
    expect(await cache.get('b')).toBe('kept');
    await loseTagRecords(kit, 't3');
    expect(await cache.get('b')).toBeUndefined();
  });

  it('a purge of a tag whose records were lost before still reaches every entry', async () => {
    await cache.set('c', 1, { tags: ['t4'] });
    await loseTagRecords(kit, 't4');
    await cache.purgeTags('t4');
    expect(await cache.get('c')).toBeUndefined();
    await cache.set('c', 2, { tags: ['t4'] });
    expect(await cache.get('c')).toBe(2);
  });
});
