export { cache, addCacheTags, cacheOf, purgeTags, type KoaCacheOptions } from './cache-middleware';
