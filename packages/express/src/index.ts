export { attachRedisKit, getRedisKit } from './context';
export { sendPlain } from './problem';
export { cache, addCacheTags, cacheOf, purgeTags, type ExpressCacheOptions } from './cache';
