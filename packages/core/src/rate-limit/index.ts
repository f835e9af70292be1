export type { RateLimitEvents, DecisionSource, RateLimitFailPolicy } from './events';
export {
  ALGORITHMS,
  POLICY_OPTIONS as RATE_LIMIT_POLICY_FIELDS,
  defaultPolicyName,
  resolvePolicy,
  resolvePolicies,
  type RateLimitAlgorithm,
  type RateLimitPolicyOptions,
  type ResolvedPolicy,
} from './policy';
export {
  RateLimiter,
  createRateLimiter,
  type RateLimiterOptions,
  type RateLimitDecision,
  type PolicyResult,
  type RateLimiterStats,
  type RateLimitKey,
  type ConsumeOptions,
  type ResolvedLimiterSettings,
} from './rate-limiter';
export { MemoryRateStore } from './memory-store';
export { clientAddressKey } from './client-ip';
export {
  rateLimitHeaders,
  quotaExceededResponse,
  QUOTA_EXCEEDED_TYPE,
  type RateLimitHeaderFormat,
  type HeaderOptions,
} from './headers';
export { onResponseEnd, type ResponseEnd } from './response-end';
export {
  HttpRateLimit,
  prepareHttpRateLimit,
  resolveHttpRateLimitOptions,
  type HttpRateLimitOptions,
  type HttpRateLimitPolicy,
  type HttpRequestInfo,
  type HttpRateLimitOutcome,
  type RateLimitKeyFn,
  type ResolvedHttpRateLimitOptions,
} from './http-rate-limit';
