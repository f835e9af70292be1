import type { CacheEvents } from '../cache/events';
import type { IdempotencyEvents } from '../idempotency/events';
import type { LockEvents } from '../lock/events';
import type { RateLimitEvents } from '../rate-limit/events';
import type { SessionEvents } from '../session/events';
import type { StreamEvents } from '../streams/events';
import type { StructuresEvents } from '../structures/events';
import type { TaskEvents } from '../tasks/events';
import type { CoreEvents } from './core-events';

/**
 * Every event a context can emit, by name. Each feature engine declares its
 * own interface in its folder (`cache/events.ts`: `'cache:hit'`, ...), so one
 * emitter per context serves metrics and logs for all of them.
 */
export interface RedisKitEventMap
  extends CoreEvents,
    CacheEvents,
    RateLimitEvents,
    IdempotencyEvents,
    LockEvents,
    SessionEvents,
    StructuresEvents,
    TaskEvents,
    StreamEvents {}

export type RedisKitEventName = keyof RedisKitEventMap;
