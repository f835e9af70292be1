export { idempotency, expressIdempotencyRequest, type ExpressIdempotencyOptions } from './idempotency';
