import { applyDecorators, UseGuards } from '@nestjs/common';
import { RATE_LIMIT_POLICY_FIELDS, resolveHttpRateLimitOptions } from '@rediskit/core';
import { RateLimitGuard } from './rate-limit.guard';
import { RATE_LIMIT_METADATA, SKIP_RATE_LIMIT_METADATA, type RateLimitOptions } from './rate-limit.metadata';

/**
 * Rate limits a controller or a handler. Policies merge by name: a handler's
 * policy replaces the controller's of the same name, module defaults
 * (`RedisKitModule.forRoot({ rateLimit })`) fill in the rest. All policies of
 * a route are decided together, in one Redis round trip. Options are
 * validated here, when the class is defined.
 *
 * @example
 * @Controller('auth')
 * @RateLimit({ policies: [{ name: 'per-minute', limit: 60, window: 60_000 }] })
 * export class AuthController {
 *   @Post('login')
 *   @RateLimit({ policies: [{ name: 'per-user', algorithm: 'fixed-window', limit: 5, window: 900_000, key: (req) => req.body?.username }] })
 *   login() {}
 * }
 */
export function RateLimit(options: RateLimitOptions = {}): ClassDecorator & MethodDecorator {
  const hasPolicy = options.policies !== undefined || RATE_LIMIT_POLICY_FIELDS.some((f) => f !== 'name' && (options as Record<string, unknown>)[f] !== undefined);
  // Options without a policy of their own (they take the defaults') are checked with a stand-in one.
  resolveHttpRateLimitOptions(hasPolicy ? options : { ...options, limit: 1, window: 1000 }, '@RateLimit');
  return applyDecorators(RATE_LIMIT_METADATA(options), UseGuards(RateLimitGuard));
}

/**
 * Leaves a controller or handler out of rate limiting: all of it with no
 * argument, or only the named policies.
 *
 * @example
 * @SkipRateLimit() health() {}
 * @SkipRateLimit('per-minute') bulkExport() {}
 */
export function SkipRateLimit(...policies: string[]): ClassDecorator & MethodDecorator {
  return SKIP_RATE_LIMIT_METADATA(policies.length > 0 ? policies : true);
}
