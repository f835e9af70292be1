import type { ServerResponse } from 'node:http';
import type { PlainResponse } from '../http';

/** A response the middleware sends itself: a replay or a problem. */
export interface IdempotencyResponse {
  status: number;
  /** Lower-case names, one pair per value. */
  headers: Array<[string, string]>;
  body: Buffer;
  /** True for a replay of a stored response. */
  replayed: boolean;
}

/** The header that marks a replay. The first response never carries it. */
export const REPLAYED_HEADER = 'idempotent-replayed';

const NO_BODY = new Set([204, 205, 304]);

/** A core {@link PlainResponse} (problem+json) as an {@link IdempotencyResponse}. */
export function fromPlain(plain: PlainResponse): IdempotencyResponse {
  return {
    status: plain.status,
    headers: Object.entries(plain.headers).map(([n, v]) => [n.toLowerCase(), v]),
    body: Buffer.from(plain.body, 'utf8'),
    replayed: false,
  };
}

/** Header pairs grouped by name, multi-valued headers as arrays. */
export function groupHeaders(pairs: ReadonlyArray<[string, string]>): Map<string, string | string[]> {
  const out = new Map<string, string | string[]>();
  for (const [name, value] of pairs) {
    const prev = out.get(name);
    out.set(name, prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]);
  }
  return out;
}

/**
 * Writes `response` to a Node response as is: status, headers, body bytes
 * (none for 204/205/304). Headers set earlier by other middleware (CORS,
 * request ids) stay. Express and Koa adapters use it, so a replay is
 * byte-identical whatever the framework would do with a body.
 *
 * @example
 * const decision = await engine.begin(request);
 * if (decision.action === 'respond') writeIdempotencyResponse(res, decision.response);
 */
export function writeIdempotencyResponse(res: ServerResponse, response: IdempotencyResponse): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = response.status;
  for (const [name, value] of groupHeaders(response.headers)) res.setHeader(name, value);
  if (NO_BODY.has(response.status)) {
    res.removeHeader('content-length');
    res.end();
    return;
  }
  res.setHeader('content-length', response.body.length);
  res.end(response.body);
}
