import { serializeList, Token, type BareItem } from 'structured-headers';

/** What the cache did with one request, for the `Cache-Status` / `X-Cache` header. */
export type CacheStatusInfo =
  | { hit: true; ttlSeconds: number; collapsed?: boolean; detail?: string }
  | {
      hit: false;
      fwd: 'uri-miss' | 'vary-miss' | 'miss' | 'stale' | 'bypass' | 'method' | 'request';
      fwdStatus?: number;
      collapsed?: boolean;
      ttlSeconds?: number;
      detail?: string;
    };

/**
 * The header value: RFC 9211 `Cache-Status` (`rediskit; hit; ttl=42`,
 * `rediskit; fwd=uri-miss`, `rediskit; fwd=bypass; detail="range"`) or the
 * informal `X-Cache` (`HIT`, `MISS`, `STALE`, `BYPASS`).
 */
export function formatCacheStatus(kind: 'cache-status' | 'x-cache', cacheName: string, info: CacheStatusInfo): string {
  if (kind === 'x-cache') {
    if (info.hit) return info.ttlSeconds < 0 ? 'STALE' : 'HIT';
    if (info.fwd === 'bypass' || info.fwd === 'method' || info.fwd === 'request') return 'BYPASS';
    if (info.fwd === 'stale' && info.fwdStatus !== undefined && info.fwdStatus >= 500) return 'STALE';
    return 'MISS';
  }
  const params = new Map<string, BareItem>();
  if (info.hit) {
    params.set('hit', true);
    params.set('ttl', Math.trunc(info.ttlSeconds));
  } else {
    params.set('fwd', new Token(info.fwd));
    if (info.fwdStatus !== undefined) params.set('fwd-status', info.fwdStatus);
    if (info.ttlSeconds !== undefined) params.set('ttl', Math.trunc(info.ttlSeconds));
  }
  if (info.collapsed !== undefined) params.set('collapsed', info.collapsed);
  if (info.detail !== undefined) params.set('detail', info.detail);
  return serializeList([[new Token(cacheName), params]]);
}

const hitPrefixes = new Map<string, string>();

/**
 * The `Cache-Status` / `X-Cache` value of a hit, as {@link formatCacheStatus}
 * writes it, without building the structured field on every request.
 */
export function formatHitStatus(kind: 'cache-status' | 'x-cache', cacheName: string, ttlSeconds: number, collapsed: boolean): string {
  if (kind === 'x-cache') return ttlSeconds < 0 ? 'STALE' : 'HIT';
  let prefix = hitPrefixes.get(cacheName);
  if (prefix === undefined) {
    prefix = serializeList([[new Token(cacheName), new Map()]]);
    hitPrefixes.set(cacheName, prefix);
  }
  return `${prefix};hit;ttl=${Math.trunc(ttlSeconds) || 0}${collapsed ? ';collapsed' : ''}`;
}
