export { attachRedisKit, getRedisKit } from './context';
export { sendPlain } from './problem';
export { idempotency, expressIdempotencyRequest, type ExpressIdempotencyOptions } from './idempotency';
export * from './rate-limit';
export { cache, addCacheTags, cacheOf, purgeTags, type ExpressCacheOptions } from './cache';
export { RedisSessionStore } from './session';
