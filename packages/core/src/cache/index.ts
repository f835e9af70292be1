export { RedisCache, createCache, httpKeyName, type CacheValueOptions } from './cache';
export { HttpCache, addCacheTags, cacheTagsOf, type HttpExchange } from './http-cache';
export {
  checkTag,
  type CacheOptions,
  type CacheRouteOptions,
  type CacheResponseInfo,
  type ResolvedCacheOptions,
  type ResolvedRouteOptions,
} from './options';
export { normalizeUrl, parseVary, varyValue, variantId } from './cache-key';
export { formatCacheStatus, type CacheStatusInfo } from './cache-status';
export { planStore, type StorePlan, type StoreVerdict } from './http-policy';
export { notModified } from './conditional';
export type { CacheEvents, CacheBypassReason, UncacheableReason } from './events';
