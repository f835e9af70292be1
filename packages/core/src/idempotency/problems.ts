/**
 * Problem type URIs of the idempotency middleware (RFC 9457). Redis being
 * unavailable uses the shared `PROBLEM_TYPES.unavailable`.
 *
 * @example
 * if (problem.type === IDEMPOTENCY_PROBLEM_TYPES.inFlight) await sleep(Number(res.headers['retry-after']) * 1000);
 */
export const IDEMPOTENCY_PROBLEM_TYPES = {
  /** 400: the route requires an `Idempotency-Key` header and the request has none. */
  keyMissing: 'https://rediskit.dev/problems/idempotency-key-missing',
  /** 400: the header is not one sf-string or token, or its length or characters are not accepted. */
  keyInvalid: 'https://rediskit.dev/problems/idempotency-key-invalid',
  /** 409: a request with this key is still being processed; retry after `Retry-After`. */
  inFlight: 'https://rediskit.dev/problems/idempotency-request-in-flight',
  /** 422: the key was used before with a different request (method, path, query or body). */
  keyReused: 'https://rediskit.dev/problems/idempotency-key-reused',
  /** 409: the request with this key completed, but its response was too large or broke off, so it cannot be replayed. */
  notStored: 'https://rediskit.dev/problems/idempotency-response-not-stored',
} as const;
