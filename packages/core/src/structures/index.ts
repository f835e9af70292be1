export type { StructuresEvents } from './events';
