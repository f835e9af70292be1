export { ERROR_CODES, type RedisKitErrorCode } from './codes';
export { RedisKitError, isRedisKitError } from './rediskit-error';
