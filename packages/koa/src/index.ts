export { attachRedisKit, getRedisKit } from './context';
export { sendPlain } from './problem';
export { idempotency, koaIdempotencyRequest, type KoaIdempotencyOptions } from './idempotency';
export * from './rate-limit';
export { cache, addCacheTags, cacheOf, purgeTags, type KoaCacheOptions } from './cache';
export { RedisSessionStore } from './session';
