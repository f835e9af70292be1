export { idempotency, koaIdempotencyRequest, type KoaIdempotencyOptions } from './idempotency';
