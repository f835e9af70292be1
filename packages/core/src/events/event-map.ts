import type { CoreEvents } from './core-events';

/**
 * Every event a context can emit, by name. Feature engines add their own
 * interface here (`'cache:hit'`, `'ratelimit:limited'`, ...), so one emitter
 * per context serves metrics and logs for all of them.
 */
export interface RedisKitEventMap extends CoreEvents {}

export type RedisKitEventName = keyof RedisKitEventMap;
