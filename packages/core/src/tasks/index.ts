export type { TaskEvents } from './events';
