import { serializeItem } from 'structured-headers';
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

// Structured Field serialization (RFC 9651) of the few kinds of values these
// headers hold, written out directly: this runs on every limited response.
// Anything outside the plain cases (not printable ASCII, not an integer in
// range) goes to `structured-headers`, which serializes or rejects it.
// headers.test.ts parses the output with `structured-headers` to prove it valid.
const PRINTABLE = /^[\x20-\x7e]*$/;

/** An sf-string: printable ASCII in quotes, `"` and `\` escaped. */
function sfString(text: string): string {
  if (!PRINTABLE.test(text)) return serializeItem(text);
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/** An sf-integer. */
function sfInteger(n: number): string {
  if (Number.isInteger(n) && n >= -999_999_999_999_999 && n <= 999_999_999_999_999) return String(n);
  return serializeItem(n);
}

/** An sf-binary parameter: `;pk=:base64:`. */
function pkParam(pk: Uint8Array | undefined): string {
  return pk ? `;pk=:${Buffer.from(pk.buffer, pk.byteOffset, pk.byteLength).toString('base64')}:` : '';
}

/** One `RateLimit-Policy` item of draft-11. */
function policyItem(p: ResolvedPolicy, pk: string): string {
  let item = `${sfString(p.name)};q=${sfInteger(p.limit)}`;
  if (p.algorithm === 'concurrency') item += ';qu="concurrent-requests"';
  else item += `;w=${sfInteger(windowSeconds(p.window))}`;
  if ((p.algorithm === 'token-bucket' || p.algorithm === 'gcra') && p.burst !== p.limit) item += `;rk-burst=${sfInteger(p.burst)}`;
  return item + pk;
}

/** One `RateLimit` item of draft-11. */
function limitItem(r: PolicyResult, name: string, pk: string): string {
  let item = `${name};r=${sfInteger(r.remaining)}`;
  if (r.algorithm !== 'concurrency') item += `;t=${sfInteger(seconds(r.resetMs))}`;
  return item + pk;
}

/** The policy a single-policy header format reports: least remaining, then the longest wait. */
function mostRestrictive(results: readonly PolicyResult[], rateOnly: boolean): PolicyResult | undefined {
  let best: PolicyResult | undefined;
  for (const r of results) {
    if (rateOnly && r.algorithm === 'concurrency') continue;
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
 * The header writer of one list of policies, with what does not change
 * between requests (the `RateLimit-Policy` field, the serialized names)
 * worked out once. `rateLimitHeaders()` is the one-off form.
 */
export class RateLimitHeaderWriter {
  private readonly names = new Map<string, string>();
  private readonly policyField: string | undefined;

  constructor(
    private readonly policies: readonly ResolvedPolicy[],
    private readonly format: RateLimitHeaderFormat,
    private readonly legacy: boolean,
  ) {
    for (const p of policies) this.names.set(p.name, sfString(p.name));
    this.policyField = this.policyHeader(undefined);
  }

  private policyHeader(pk: Uint8Array | undefined): string | undefined {
    if (this.format === 'draft-11') {
      const param = pkParam(pk);
      return this.policies.map((p) => policyItem(p, param)).join(', ');
    }
    if (this.format === 'draft-7' || this.format === 'draft-6') {
      const rated = this.policies.filter((p) => p.algorithm !== 'concurrency');
      if (rated.length > 0) return rated.map((p) => `${sfInteger(p.limit)};w=${sfInteger(windowSeconds(p.window))}`).join(', ');
    }
    return undefined;
  }

  /** The headers of `decision` (lower-case names); see {@link rateLimitHeaders}. */
  write(decision: RateLimitDecision, partitionKey?: Uint8Array): Record<string, string> {
    const headers: Record<string, string> = {};
    const rejected = !decision.allowed;
    if (rejected) headers['retry-after'] = String(Math.max(1, seconds(decision.retryAfterMs)));
    const results = decision.policies;
    if (results.length === 0) return headers;
    const format = this.format;
    if (format === 'draft-11') {
      const pk = pkParam(partitionKey);
      headers['ratelimit-policy'] = partitionKey ? this.policyHeader(partitionKey)! : this.policyField!;
      let field = '';
      for (const r of results) {
        if (rejected && r.ok) continue;
        if (field !== '') field += ', ';
        field += limitItem(r, this.names.get(r.name) ?? sfString(r.name), pk);
      }
      headers.ratelimit = field;
    }
    if (format !== 'draft-11' || this.legacy) {
      if (format === false && !this.legacy) return headers;
      const shown = rejected ? results.filter((p) => !p.ok) : results;
      // Single-policy formats describe a rate; a concurrency policy only when it is all there is.
      const top = mostRestrictive(shown, true) ?? mostRestrictive(shown, false)!;
      if (format === 'draft-7' || format === 'draft-6') {
        if (this.policyField !== undefined) headers['ratelimit-policy'] = this.policyField;
        if (format === 'draft-7') {
          headers.ratelimit = `limit=${sfInteger(top.limit)}, remaining=${sfInteger(top.remaining)}, reset=${sfInteger(seconds(top.resetMs))}`;
        } else {
          headers['ratelimit-limit'] = String(top.limit);
          headers['ratelimit-remaining'] = String(top.remaining);
          headers['ratelimit-reset'] = String(seconds(top.resetMs));
        }
      }
      if (this.legacy) {
        const nowMs = decision.timeUs !== undefined ? decision.timeUs / 1000 : Date.now();
        headers['x-ratelimit-limit'] = String(top.limit);
        headers['x-ratelimit-remaining'] = String(top.remaining);
        headers['x-ratelimit-reset'] = String(Math.ceil((nowMs + top.resetMs) / 1000));
      }
    }
    return headers;
  }
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
  return new RateLimitHeaderWriter(policies, options.format, options.legacy).write(decision, options.partitionKey);
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
