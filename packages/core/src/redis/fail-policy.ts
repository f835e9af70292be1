import type { RedisKitError } from '../errors';
import { toRedisKitError } from './errors-map';
import type { RedisKit } from './redis-kit';

/**
 * What a feature does when Redis fails it: `open` carries on without Redis
 * (the request is served as if the feature were off), `closed` refuses (the
 * adapter answers 503 problem+json with Retry-After).
 */
export type FailPolicy = 'open' | 'closed';

/** Result of {@link RedisKit.attempt}: never throws, says what happened. */
export type Attempt<T> = { ok: true; value: T } | { ok: false; error: RedisKitError; policy: FailPolicy };

/**
 * Runs a producer call of `feature` under the fail-closed policy: a failure
 * emits `store-error`, is logged once per interval, and rejects with the
 * coded error (`<feature> <operation>`); the next success emits `recovered`.
 * For calls that run their own Redis work (a script's `run`); see
 * {@link RedisKit.guard} for a function of the client.
 */
export async function failClosed<R>(
  kit: Pick<RedisKit, 'noteSuccess' | 'noteFailure'>,
  feature: string,
  operation: string,
  fn: () => Promise<R>,
): Promise<R> {
  try {
    const value = await fn();
    kit.noteSuccess(feature);
    return value;
  } catch (error) {
    const coded = toRedisKitError(error, `${feature} ${operation}`);
    kit.noteFailure(feature, operation, 'closed', coded);
    throw coded;
  }
}
