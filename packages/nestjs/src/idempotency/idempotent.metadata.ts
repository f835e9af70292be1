import { Reflector } from '@nestjs/core';
import type { IdempotencyOptions } from '@rediskit/core';

/** Options of `@Idempotent()`; `principal` gets the Express request. Merged over the module's `idempotency` defaults. */
export type NestIdempotencyOptions = IdempotencyOptions<any>;

/** Metadata of `@Idempotent()` (a `Reflector.createDecorator`), read by `IdempotencyInterceptor`. */
export const IDEMPOTENT = Reflector.createDecorator<NestIdempotencyOptions>();
