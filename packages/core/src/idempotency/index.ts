export type { IdempotencyEvents } from './events';
