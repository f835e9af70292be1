import type { RedisKitError } from '../errors';

/**
 * What a feature does when Redis fails it: `open` carries on without Redis
 * (the request is served as if the feature were off), `closed` refuses (the
 * adapter answers 503 problem+json with Retry-After).
 */
export type FailPolicy = 'open' | 'closed';

/** Result of {@link RedisKit.attempt}: never throws, says what happened. */
export type Attempt<T> = { ok: true; value: T } | { ok: false; error: RedisKitError; policy: FailPolicy };
