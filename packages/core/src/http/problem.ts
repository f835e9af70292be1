/**
 * An RFC 9457 problem details object. `type` is a URI naming the problem;
 * extension members (`violated-policies`, `retry-after`, ...) sit beside the
 * standard ones.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** A response an adapter writes as is: status, headers, body bytes. */
export interface PlainResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Problem type URIs rediskit uses; each is described in docs/errors.md. */
export const PROBLEM_TYPES = {
  /** Redis unavailable and the feature fails closed. */
  unavailable: 'https://rediskit.dev/problems/service-unavailable',
  /** A request header or body that the feature cannot accept. */
  badRequest: 'https://rediskit.dev/problems/bad-request',
} as const;

/**
 * Turns problem details into the response an adapter sends:
 * `application/problem+json`, the status, and any extra headers
 * (Retry-After, ...).
 *
 * @example
 * const r = problemResponse({ type: PROBLEM_TYPES.unavailable, title: 'Service Unavailable', status: 503 },
 *   { 'retry-after': '1' });
 * res.status(r.status).set(r.headers).send(r.body);
 */
export function problemResponse(problem: ProblemDetails, headers: Record<string, string> = {}): PlainResponse {
  return {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(problem),
  };
}

/**
 * The 503 every fail-closed feature answers while Redis is unavailable,
 * with `Retry-After` in whole seconds (at least 1).
 */
export function unavailableProblem(feature: string, retryAfterSeconds = 1): PlainResponse {
  const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  return problemResponse(
    {
      type: PROBLEM_TYPES.unavailable,
      title: 'Service Unavailable',
      status: 503,
      detail: `${feature} is temporarily unavailable; retry later.`,
    },
    { 'retry-after': String(retryAfter) },
  );
}
