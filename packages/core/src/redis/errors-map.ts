import { RedisKitError } from '../errors';

// Replies that mean "Redis cannot serve this right now", as opposed to "this
// command is wrong". Both go through the fail policy; the code differs so
// operators can tell an outage from a bug.
const TRANSIENT_REPLY = /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|BUSY|NOREPLICAS|OOM)\b/;
const CONNECTION_MESSAGES = [
  "Stream isn't writeable",
  'Connection is closed',
  'Reached the max retries per request limit',
  'connect ECONNREFUSED',
  'read ECONNRESET',
  'write EPIPE',
  'Command timed out',
  'None of startup nodes is available',
  'Cluster isn\'t ready',
  'Failed to refresh slots cache',
];

/** Maps anything ioredis rejects with to a coded RedisKitError. */
export function toRedisKitError(error: unknown, operation: string, isScript = false): RedisKitError {
  if (error instanceof RedisKitError) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  const message = err.message ?? '';
  if (CONNECTION_MESSAGES.some((m) => message.includes(m)) || (err as { code?: string }).code === 'ECONNREFUSED') {
    return new RedisKitError('ERR_REDISKIT_UNAVAILABLE', `Redis unavailable during ${operation}: ${message}`, {
      cause: err,
      details: { operation },
    });
  }
  if (TRANSIENT_REPLY.test(message)) {
    return new RedisKitError('ERR_REDISKIT_UNAVAILABLE', `Redis cannot serve ${operation} now: ${message}`, {
      cause: err,
      details: { operation },
    });
  }
  if (/CROSSSLOT/.test(message)) {
    return new RedisKitError('ERR_REDISKIT_CROSS_SLOT', `${operation}: ${message}`, {
      cause: err,
      details: { operation },
    });
  }
  return new RedisKitError(isScript ? 'ERR_REDISKIT_SCRIPT' : 'ERR_REDISKIT_COMMAND', `${operation} failed: ${message}`, {
    cause: err,
    details: { operation },
  });
}
