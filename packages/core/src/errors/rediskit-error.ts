import { ERROR_CODES, type RedisKitErrorCode } from './codes';

const DOCS = 'https://github.com/rediskit/rediskit/blob/main/docs/errors.md';

/**
 * The one error class rediskit throws. Branch on `code`, never on `message`.
 *
 * @example
 * try {
 *   await lock.acquire('invoice:42');
 * } catch (err) {
 *   if (isRedisKitError(err, 'ERR_REDISKIT_LOCK_CONTENDED')) return retryLater();
 *   throw err;
 * }
 */
export class RedisKitError extends Error {
  override readonly name = 'RedisKitError';
  readonly code: RedisKitErrorCode;
  /** Extra machine-readable facts (the option name, the key's feature, ...). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: RedisKitErrorCode,
    message?: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message ?? ERROR_CODES[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  /** Link to this code's entry in the error reference. */
  get docs(): string {
    return `${DOCS}#${this.code.toLowerCase().replace(/_/g, '-')}`;
  }
}

/**
 * Type guard for {@link RedisKitError}, optionally for one code.
 *
 * @example
 * if (isRedisKitError(err, 'ERR_REDISKIT_TIMEOUT')) metrics.timeouts.inc();
 */
export function isRedisKitError(error: unknown, code?: RedisKitErrorCode): error is RedisKitError {
  return error instanceof RedisKitError && (code === undefined || error.code === code);
}
