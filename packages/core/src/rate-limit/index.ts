export type { RateLimitEvents } from './events';
