export { RateLimit, SkipRateLimit } from './rate-limit.decorator';
export { RateLimitGuard, mergeRateLimitOptions, type RateLimitedRequest } from './rate-limit.guard';
export { RateLimitException } from './rate-limit.exception';
export { RATE_LIMIT_METADATA, SKIP_RATE_LIMIT_METADATA, type RateLimitOptions } from './rate-limit.metadata';
