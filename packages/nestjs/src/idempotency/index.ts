export { Idempotent } from './idempotent.decorator';
export { IDEMPOTENT, type NestIdempotencyOptions } from './idempotent.metadata';
export { IdempotencyInterceptor } from './idempotency.interceptor';
