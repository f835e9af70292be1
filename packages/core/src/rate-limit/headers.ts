import { serializeDictionary, serializeList, type Item, type Parameters } from 'structured-headers';
import { problemResponse, type PlainResponse, type ProblemDetails } from '../http';
import type { ResolvedPolicy } from './policy';
import type { PolicyResult, RateLimitDecision } from './rate-limiter';

/**
 * Which rate-limit header fields to send:
 * - `draft-11`: `RateLimit-Policy` and `RateLimit` as Structured Field lists
 *   with one item per policy (draft-ietf-httpapi-ratelimit-headers-11, May 2026).
 * - `draft-7`: `RateLimit-Policy: 100;w=60` and `RateLimit: limit=100, remaining=99, reset=59`
 *   (one policy: the most restrictive), as express-rate-limit's `draft-7`.
 * - `draft-6`: `RateLimit-Policy` plus `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`.
 * - `false`: none (Retry-After is still sent on 429).
 */
export type RateLimitHeaderFormat = 'draft-11' | 'draft-7' | 'draft-6' | false;

/** The problem type the draft registers for a request that exceeds a quota. */
export const QUOTA_EXCEEDED_TYPE = 'https://iana.org/assignments/http-problem-types#quota-exceeded';

const seconds = (ms: number) => Math.ceil(ms / 1000);

/** `w`: the draft takes whole seconds, at least 1. */
const windowSeconds = (ms: number) => Math.max(1, seconds(ms));

function policyItem(p: ResolvedPolicy, pk: Uint8Array | undefined): Item {
  const params: Parameters = new Map();
  params.set('q', p.limit);
  if (p.algorithm === 'concurrency') params.set('qu', 'concurrent-requests');
  else params.set('w', windowSeconds(p.window));
  if ((p.algorithm === 'token-bucket' || p.algorithm === 'gcra') && p.burst !== p.limit) params.set('rk-burst', p.burst);
  if (pk) params.set('pk', pk);
  return [p.name, params];
}

function limitItem(r: PolicyResult, pk: Uint8Array | undefined): Item {
  const params: Parameters = new Map();
  params.set('r', r.remaining);
  if (r.algorithm !== 'concurrency') params.set('t', seconds(r.resetMs));
  if (pk) params.set('pk', pk);
  return [r.name, params];
}

/** The policy a single-policy header format reports: least remaining, then the longest wait. */
function mostRestrictive(results: readonly PolicyResult[]): PolicyResult | undefined {
  let best: PolicyResult | undefined;
  for (const r of results) {
    if (!best || r.remaining < best.remaining || (r.remaining === best.remaining && r.resetMs > best.resetMs)) best = r;
  }
  return best;
}

export interface HeaderOptions {
  format: RateLimitHeaderFormat;
  /** Also send X-RateLimit-Limit / -Remaining / -Reset (reset as Unix seconds). */
  legacy: boolean;
  /** The draft's partition key (`pk`), a Byte Sequence. */
  partitionKey?: Uint8Array;
}

/**
 * The rate-limit response headers of a decision, lower-case names. On a
 * rejection `RateLimit` lists only the violated policies and `Retry-After`
 * (whole seconds, at least 1) is the longest of their waits, so it never
 * points earlier than the end of any effective window it is sent with.
 * Decisions made without Redis state (fail open) produce none.
 *
 * @example
 * const h = rateLimitHeaders(policies, decision, { format: 'draft-11', legacy: false });
 * // { 'ratelimit-policy': '"default";q=100;w=60', ratelimit: '"default";r=99;t=60' }
 */
export function rateLimitHeaders(
  policies: readonly ResolvedPolicy[],
  decision: RateLimitDecision,
  options: HeaderOptions,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const rejected = !decision.allowed;
  if (rejected) headers['retry-after'] = String(Math.max(1, seconds(decision.retryAfterMs)));
  if (decision.policies.length === 0) return headers;
  const shown = rejected ? decision.policies.filter((p) => !p.ok) : decision.policies;
  const pk = options.partitionKey;
  const rated = policies.filter((p) => p.algorithm !== 'concurrency');
  // Single-policy formats describe a rate; a concurrency policy only when it is all there is.
  const top = mostRestrictive(shown.filter((r) => r.algorithm !== 'concurrency')) ?? mostRestrictive(shown)!;
  if (options.format === 'draft-11') {
    headers['ratelimit-policy'] = serializeList(policies.map((p) => policyItem(p, pk)));
    headers.ratelimit = serializeList(shown.map((r) => limitItem(r, pk)));
  } else if (options.format === 'draft-7' || options.format === 'draft-6') {
    if (rated.length > 0) {
      headers['ratelimit-policy'] = serializeList(rated.map((p): Item => [p.limit, new Map([['w', windowSeconds(p.window)]])]));
    }
    if (options.format === 'draft-7') {
      headers.ratelimit = serializeDictionary({ limit: top.limit, remaining: top.remaining, reset: seconds(top.resetMs) });
    } else {
      headers['ratelimit-limit'] = String(top.limit);
      headers['ratelimit-remaining'] = String(top.remaining);
      headers['ratelimit-reset'] = String(seconds(top.resetMs));
    }
  }
  if (options.legacy) {
    const nowMs = decision.timeUs !== undefined ? decision.timeUs / 1000 : Date.now();
    headers['x-ratelimit-limit'] = String(top.limit);
    headers['x-ratelimit-remaining'] = String(top.remaining);
    headers['x-ratelimit-reset'] = String(Math.ceil((nowMs + top.resetMs) / 1000));
  }
  return headers;
}

/**
 * The 429 answer: RFC 9457 problem details of the draft's quota-exceeded
 * type with `violated-policies`, plus the decision's headers.
 *
 * @example
 * const r = quotaExceededResponse(decision, rateLimitHeaders(policies, decision, { format: 'draft-11', legacy: false }));
 * res.writeHead(r.status, r.headers).end(r.body);
 */
export function quotaExceededResponse(decision: RateLimitDecision, headers: Record<string, string>, detail?: string): PlainResponse {
  const wait = Math.max(1, seconds(decision.retryAfterMs));
  const problem: ProblemDetails = {
    type: QUOTA_EXCEEDED_TYPE,
    title: 'Quota Exceeded',
    status: 429,
    detail: detail ?? `Too many requests: the ${decision.violated.map((n) => `"${n}"`).join(', ')} quota is used up; retry in ${wait} s.`,
    'violated-policies': [...decision.violated],
  };
  return problemResponse(problem, headers);
}
