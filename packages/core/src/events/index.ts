export { RedisKitEvents } from './emitter';
export type { RedisKitEventMap, RedisKitEventName } from './event-map';
export type { CoreEvents, RedisKitState } from './core-events';
