export { attachRedisKit, getRedisKit } from './context';
export { sendPlain } from './problem';
export { idempotency, expressIdempotencyRequest, type ExpressIdempotencyOptions } from './idempotency';
export * from './rate-limit';
