export { rateLimit, trustProxyOf, type KoaRateLimitOptions } from './rate-limit';
