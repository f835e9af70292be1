export type { CacheEvents } from './events';
