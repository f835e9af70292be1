export type { LockEvents } from './events';
