export type { SessionEvents } from './events';
