import { Reflector } from '@nestjs/core';
import type { HttpRateLimitOptions } from '@rediskit/core';

/** Options of `@RateLimit()`: the core HTTP options, `req` being the platform's request (Express `req`). */
export type RateLimitOptions<TReq = any> = HttpRateLimitOptions<TReq>;

/** Metadata written by `@RateLimit()` on a controller or handler. */
export const RATE_LIMIT_METADATA = Reflector.createDecorator<RateLimitOptions>();

/** Metadata written by `@SkipRateLimit()`: `true` skips every policy, a list only those named. */
export const SKIP_RATE_LIMIT_METADATA = Reflector.createDecorator<true | string[]>();
