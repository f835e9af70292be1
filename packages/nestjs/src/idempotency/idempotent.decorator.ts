import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { resolveIdempotencyOptions } from '@rediskit/core';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IDEMPOTENT, type NestIdempotencyOptions } from './idempotent.metadata';

/**
 * Makes a route honour the `Idempotency-Key` header: a retried request gets
 * the first response back instead of running the handler again. Applies
 * {@link IdempotencyInterceptor}; on a controller class it covers every
 * route (POST, PUT, PATCH and DELETE by default). Options are validated
 * here, and merged over `RedisKitModule.forRoot({ idempotency })` defaults.
 *
 * @example
 * @Post('orders')
 * @Idempotent({ required: true })
 * create(@Body() dto: CreateOrderDto) { return this.orders.create(dto); }
 */
export function Idempotent(options: NestIdempotencyOptions = {}): MethodDecorator & ClassDecorator {
  resolveIdempotencyOptions(options, '@Idempotent');
  return applyDecorators(IDEMPOTENT(options), UseInterceptors(IdempotencyInterceptor));
}
