import { createCache, RedisCache, type CacheOptions, type RedisKit } from '@rediskit/core';

const configured = new WeakSet<RedisKit>();

/** The cache engine of `kit`, created once with the module's `cache` options when they are given. */
export function engineFor(kit: RedisKit, options: CacheOptions | undefined): RedisCache {
  if (options && !configured.has(kit)) {
    configured.add(kit);
    return createCache(kit, options);
  }
  return RedisCache.of(kit);
}
