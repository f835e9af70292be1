export { cache, addCacheTags, cacheOf, purgeTags, type ExpressCacheOptions } from './cache-middleware';
