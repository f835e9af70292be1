export type { StreamEvents } from './events';
