/**
 * Every error rediskit throws carries one of these codes. Each code has an
 * entry in `docs/errors.md` saying what it means and what to do about it.
 */
export const ERROR_CODES = {
  // Configuration (thrown at construction)
  ERR_REDISKIT_INVALID_OPTION: 'An option has the wrong type or an out-of-range value.',
  ERR_REDISKIT_UNKNOWN_OPTION: 'An option name is not recognised (usually a typo).',
  ERR_REDISKIT_NO_CONNECTION: 'No way to reach Redis was given (url, sentinel, cluster or client).',
  // Redis availability (request path)
  ERR_REDISKIT_UNAVAILABLE: 'Redis is not connected or the context is degraded; the operation was not sent.',
  ERR_REDISKIT_TIMEOUT: 'Redis did not answer within the operation timeout.',
  ERR_REDISKIT_COMMAND: 'Redis answered a command with an error.',
  ERR_REDISKIT_SCRIPT: 'A Lua script failed inside Redis.',
  ERR_REDISKIT_CLOSED: 'The context was closed; no further operations are possible.',
  ERR_REDISKIT_CROSS_SLOT: 'Keys that one operation needs together do not share a hash slot.',
  // Locks
  ERR_REDISKIT_LOCK_CONTENDED: 'The lock is held by another owner and the acquire timeout was reached.',
  ERR_REDISKIT_LOCK_LOST: 'The lock expired or was taken by another owner while it was held.',
  ERR_REDISKIT_LOCK_NOT_OWNER: 'Release or extend was called by an owner that does not hold the lock.',
  // Cache
  ERR_REDISKIT_CACHE_TAG: 'A cache tag is empty, longer than 1024 bytes, or contains control characters.',
  ERR_REDISKIT_CACHE_PURGE: 'A purge did not reach every shard; entries with the tags may still be served.',
  // Serialization and data
  ERR_REDISKIT_SERIALIZE: 'A value could not be serialized or deserialized.',
  // Call arguments (thrown before anything is sent to Redis)
  ERR_REDISKIT_INVALID_ARGUMENT: 'An argument of a call has the wrong type or an out-of-range value.',
  // Sessions
  ERR_REDISKIT_SESSION_INDEX_DISABLED: 'A per-user session operation was called while the per-user index is off (userId: false).',
  ERR_REDISKIT_SESSION_REVOKE_INCOMPLETE: 'Some sessions of the user could not be revoked (Redis failed midway); retry, it is idempotent.',
  // Optional peer dependencies
  ERR_REDISKIT_PEER_MISSING: 'An optional peer dependency the called feature needs is not installed.',
  // Delayed tasks and streams
  ERR_REDISKIT_LEASE_LOST: 'A running task or stream entry was taken over by another worker (its lease or idle time ran out) while its handler ran.',
  ERR_REDISKIT_ALREADY_SETTLED: 'A stream entry was acknowledged twice by its handler (ackWith after ackWith).',
} as const;

/** A code carried by {@link RedisKitError}. */
export type RedisKitErrorCode = keyof typeof ERROR_CODES;
