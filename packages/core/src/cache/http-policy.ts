import type { IncomingHttpHeaders } from 'node:http';
import { parseVary } from './cache-key';
import { parseCacheControl } from './cache-control';
import type { UncacheableReason } from './events';
import type { ResolvedRouteOptions } from './options';

/** How a storable response is kept. Times in ms. */
export interface StorePlan {
  /** Fresh for, from the lookup's time. */
  freshMs: number;
  staleWhileRevalidateMs: number;
  staleIfErrorMs: number;
  /** Responses to requests with Authorization may use it (`public`, `s-maxage`, `must-revalidate` or the route says so). */
  shareAuthorized: boolean;
  /** Header names the response varies on (its `Vary` plus the route's), sorted. */
  varyNames: string[];
  /** Tags the response named in its tag headers. */
  headerTags: string[];
  /** Header names not to store (hop-by-hop, private fields, tag headers, the cache's own). */
  drop: Set<string>;
}

export type StoreVerdict = { ok: true; plan: StorePlan } | { ok: false; reason: UncacheableReason };

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'age',
];

function valuesOf(headers: ReadonlyArray<readonly [string, string]>, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n === name) out.push(v);
  return out;
}

/**
 * Decides, from the request and the response's status and headers (before
 * the body), whether a shared cache may store the response and for how long
 * (RFC 9111 3 and 4.2, RFC 5861), or why not.
 */
export function planStore(
  request: { method: string; headers: IncomingHttpHeaders },
  status: number,
  headers: ReadonlyArray<readonly [string, string]>,
  route: ResolvedRouteOptions<unknown>,
  nowMs: number,
): StoreVerdict {
  if (request.method !== 'GET') return { ok: false, reason: 'head' };
  const requestCc = parseCacheControl(request.headers['cache-control']);
  if (requestCc.noStore) return { ok: false, reason: 'request-no-store' };
  if (status === 206) return { ok: false, reason: 'partial' };
  const byTtl = route.statuses.has(status);
  if (!byTtl && !route.explicitStatuses.has(status)) return { ok: false, reason: 'status' };
  const cc = parseCacheControl(valuesOf(headers, 'cache-control'));
  if (cc.noStore) return { ok: false, reason: 'no-store' };
  if (cc.private && !cc.privateFields) return { ok: false, reason: 'private' };
  if (cc.noCache && !cc.noCacheFields) return { ok: false, reason: 'no-cache' };
  if (valuesOf(headers, 'set-cookie').length > 0) return { ok: false, reason: 'set-cookie' };
  const varyNames = parseVary([...valuesOf(headers, 'vary'), ...route.vary]);
  if (varyNames[0] === '*') return { ok: false, reason: 'vary-star' };
  const contentType = valuesOf(headers, 'content-type')[0] ?? '';
  if (/^\s*text\/event-stream/i.test(contentType)) return { ok: false, reason: 'event-stream' };
  const shareAuthorized = cc.public === true || cc.sharedMaxAge !== null || cc.mustRevalidate === true || route.shareAuthorized;
  if (request.headers.authorization !== undefined && !shareAuthorized) return { ok: false, reason: 'authorization' };
  const length = Number(valuesOf(headers, 'content-length')[0]);
  if (Number.isFinite(length) && length > route.maxBodySize) return { ok: false, reason: 'too-large' };

  let freshMs: number | undefined;
  if (cc.sharedMaxAge !== null) freshMs = cc.sharedMaxAge * 1000;
  else if (cc.maxAge !== null) freshMs = cc.maxAge * 1000;
  else {
    const expires = valuesOf(headers, 'expires')[0];
    if (expires !== undefined) {
      const at = Date.parse(expires);
      const date = Date.parse(valuesOf(headers, 'date')[0] ?? '');
      // An invalid Expires (e.g. "0") means already expired (RFC 9111 5.3).
      freshMs = Number.isFinite(at) ? Math.max(0, at - (Number.isFinite(date) ? date : nowMs)) : 0;
    } else if (byTtl && route.ttl !== undefined) {
      freshMs = route.ttl;
    }
  }
  if (freshMs === undefined) return { ok: false, reason: 'no-freshness' };
  const mustRevalidate = cc.mustRevalidate === true || cc.proxyRevalidate === true;
  const staleWhileRevalidateMs = mustRevalidate
    ? 0
    : cc.staleWhileRevalidate !== null
      ? cc.staleWhileRevalidate * 1000
      : route.staleWhileRevalidate;
  const staleIfErrorMs = mustRevalidate ? 0 : cc.staleIfError !== null ? cc.staleIfError * 1000 : route.staleIfError;
  if (freshMs + Math.max(staleWhileRevalidateMs, staleIfErrorMs) <= 0) return { ok: false, reason: 'no-freshness' };

  const drop = new Set(HOP_BY_HOP);
  for (const c of valuesOf(headers, 'connection')) for (const n of c.split(',')) if (n.trim()) drop.add(n.trim().toLowerCase());
  for (const n of [...(cc.privateFields ?? []), ...(cc.noCacheFields ?? [])]) drop.add(n.toLowerCase());
  if (route.statusHeader) drop.add(route.statusHeader);
  const headerTags: string[] = [];
  for (const name of route.tagHeaders) {
    for (const v of valuesOf(headers, name)) for (const t of v.split(/[\s,]+/)) if (t) headerTags.push(t);
    if (!route.exposeTagHeaders) drop.add(name);
  }
  return {
    ok: true,
    plan: { freshMs, staleWhileRevalidateMs, staleIfErrorMs, shareAuthorized, varyNames, headerTags, drop },
  };
}
