export { attachRedisKit, getRedisKit } from './context';
export { sendPlain } from './problem';
export { idempotency, koaIdempotencyRequest, type KoaIdempotencyOptions } from './idempotency';
export * from './rate-limit';
