import type { RedisKitError } from '../errors';

/** Why a request did not use the cache at all (its `Cache-Status` says `fwd=bypass` with this detail). */
export type CacheBypassReason =
  | 'method'
  | 'range'
  | 'upgrade'
  | 'authorization'
  | 'route'
  | 'unavailable'
  | 'no-store';

/** Why a response was not stored. */
export type UncacheableReason =
  | 'status'
  | 'no-store'
  | 'private'
  | 'no-cache'
  | 'set-cookie'
  | 'authorization'
  | 'vary-star'
  | 'no-freshness'
  | 'too-large'
  | 'event-stream'
  | 'partial'
  | 'head'
  | 'error'
  | 'purged'
  | 'newer'
  | 'expired'
  | 'too-old'
  | 'request-no-store';

/**
 * Events of the cache engine, emitted on the context's `events`. `key` is the
 * cache key (the URL for HTTP entries, the caller's key for `wrap`/`get`/`set`).
 *
 * @example
 * kit.events.on('cache:hit', ({ key }) => metrics.hits.inc({ key }));
 * kit.events.on('cache:purge', ({ tags, soft }) => log.info({ tags, soft }, 'purged'));
 */
export interface CacheEvents {
  /** Served from the cache, fresh. `collapsed` when the request waited for another's fill. */
  'cache:hit': { key: string; age: number; ttl: number; collapsed: boolean };
  /** Not in the cache (or not usable); the origin answers. */
  'cache:miss': { key: string; reason: 'uri-miss' | 'vary-miss' | 'only-if-cached' | 'wait-timeout' | 'pass' };
  /** Served stale: during a refresh (stale-while-revalidate) or because the origin failed (stale-if-error). */
  'cache:stale': { key: string; age: number; reason: 'stale-while-revalidate' | 'soft-purge' | 'stale-if-error' };
  /** The request skipped the cache. */
  'cache:bypass': { key: string; reason: CacheBypassReason };
  /** A response or value was stored. */
  'cache:store': { key: string; bytes: number; ttl: number; tags: string[] };
  /** A response or value was fetched but not stored, and why. */
  'cache:uncacheable': { key: string; reason: UncacheableReason };
  /** Tags (or one URL or key) were purged on every shard. */
  'cache:purge': { tags: string[]; soft: boolean };
  /** A request waited for another request's fill instead of calling the origin. */
  'cache:coalesced': { key: string; via: 'process' | 'redis'; outcome: 'shared' | 'timeout' | 'not-shared' };
  /** One background refresh started (stale-while-revalidate, soft purge or probabilistic early refresh). */
  'cache:refresh': { key: string; reason: 'stale-while-revalidate' | 'soft-purge' | 'early' };
  /** A Redis operation of the cache failed; the cache failed open (or closed, by option). */
  'cache:error': { key?: string; operation: string; error: RedisKitError };
}
