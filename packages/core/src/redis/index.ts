export {
  RedisKit,
  createRedisKit,
  isRedisKit,
  bounded,
  type RedisKitOptions,
  type ResolvedRedisKitOptions,
  type RedisNodeAddress,
  type SentinelConnection,
  type ClusterConnection,
} from './redis-kit';
export { RedisScript, defineScript, assertSameSlot, type ScriptSource, type ScriptArg } from './script';
export type { FailPolicy, Attempt } from './fail-policy';
export { consoleLogger, silentLogger, ThrottledLog, type RedisKitLogger } from './logger';
export { toRedisKitError } from './errors-map';
export type { RedisClient } from './types';
export { BlockingConnection, type BlockingConnectionOptions } from './blocking-connection';
