import { RedisKitError, isRedisKitError } from '../errors';

/**
 * Runs the argument checks of a call (schedule, publish, ...) with the option
 * validators and reports a failure as ERR_REDISKIT_INVALID_ARGUMENT: a bad
 * argument is a bug in the caller, found before anything is sent to Redis,
 * not a configuration error.
 */
export function checkArguments<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (isRedisKitError(error, 'ERR_REDISKIT_INVALID_OPTION') || isRedisKitError(error, 'ERR_REDISKIT_UNKNOWN_OPTION')) {
      throw new RedisKitError('ERR_REDISKIT_INVALID_ARGUMENT', error.message, { details: { argument: error.details.option } });
    }
    throw error;
  }
}
