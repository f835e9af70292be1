export { rateLimit, trustProxyOf, routeTemplateOf, type ExpressRateLimitOptions } from './rate-limit';
