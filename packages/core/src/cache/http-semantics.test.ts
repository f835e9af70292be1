import { describe, expect, it } from '@jest/globals';
import { normalizeUrl, parseVary, variantId, varyValue } from './cache-key';
import { formatCacheStatus, formatHitStatus } from './cache-status';
import { notModified } from './conditional';
import { planStore } from './http-policy';
import { resolveCacheOptions, resolveRouteOptions } from './options';

const route = resolveRouteOptions('test', { ttl: 10_000 });
const get = { method: 'GET', headers: {} };
const plan = (status: number, headers: Array<[string, string]>, r = route, req = get) => planStore(req, status, headers, r, Date.now());

describe('cache keys', () => {
  it('sorts query parameters by name, keeps repeated names in order, decodes nothing', () => {
    expect(normalizeUrl('/a?b=2&a=1')).toBe('/a?a=1&b=2');
    expect(normalizeUrl('/a?x=2&a=1&x=1')).toBe('/a?a=1&x=2&x=1');
    expect(normalizeUrl('/a?&&')).toBe('/a');
    expect(normalizeUrl('/a?q=a%20b')).not.toBe(normalizeUrl('/a?q=a+b'));
    expect(normalizeUrl('/a#frag')).toBe('/a');
  });

  it('normalizes Vary names and values so equivalent requests share a variant', () => {
    expect(parseVary(['Accept-Language, accept-encoding', 'ACCEPT-LANGUAGE'])).toEqual(['accept-encoding', 'accept-language']);
    expect(parseVary(['Accept, *'])).toEqual(['*']);
    expect(varyValue({ 'accept-encoding': 'gzip, BR' }, 'accept-encoding')).toBe(varyValue({ 'accept-encoding': 'br,gzip' }, 'accept-encoding'));
    expect(varyValue({}, 'x-tenant')).toBeNull();
    const names = ['accept-language'];
    expect(variantId(names, { 'accept-language': 'en' })).not.toBe(variantId(names, { 'accept-language': 'fr' }));
    expect(variantId(names, {})).not.toBe(variantId(names, { 'accept-language': '' }));
    expect(variantId([], { 'accept-language': 'en' })).toBe('-');
  });
});

describe('what a shared cache may store (RFC 9111)', () => {
  it('stores allowed statuses with the route TTL, and 404 only with explicit freshness', () => {
    for (const s of [200, 203, 204, 300, 301]) expect(plan(s, []).ok).toBe(true);
    expect(plan(404, [])).toEqual({ ok: false, reason: 'no-freshness' });
    expect(plan(404, [['cache-control', 'max-age=5']]).ok).toBe(true);
    for (const s of [500, 502, 503, 302, 206]) expect(plan(s, [['cache-control', 'max-age=60']]).ok).toBe(false);
  });

  it('takes s-maxage over max-age over Expires over the route TTL', () => {
    const fresh = (h: Array<[string, string]>) => {
      const v = plan(200, h);
      return v.ok ? v.plan.freshMs : undefined;
    };
    expect(fresh([['cache-control', 'max-age=60, s-maxage=5']])).toBe(5000);
    expect(fresh([['cache-control', 'max-age=60']])).toBe(60_000);
    const date = new Date('2026-01-01T00:00:00Z');
    expect(fresh([['expires', new Date(+date + 30_000).toUTCString()], ['date', date.toUTCString()]])).toBe(30_000);
    expect(fresh([['expires', '0']])).toBeUndefined();
    expect(fresh([])).toBe(10_000);
  });

  it('refuses no-store, private, no-cache, Set-Cookie, Vary: *, event streams and requests with no-store', () => {
    expect(plan(200, [['cache-control', 'no-store']])).toEqual({ ok: false, reason: 'no-store' });
    expect(plan(200, [['cache-control', 'private']])).toEqual({ ok: false, reason: 'private' });
    expect(plan(200, [['cache-control', 'no-cache']])).toEqual({ ok: false, reason: 'no-cache' });
    expect(plan(200, [['set-cookie', 'a=b']])).toEqual({ ok: false, reason: 'set-cookie' });
    expect(plan(200, [['vary', 'Accept, *']])).toEqual({ ok: false, reason: 'vary-star' });
    expect(plan(200, [['content-type', 'text/event-stream']])).toEqual({ ok: false, reason: 'event-stream' });
    expect(plan(200, [], route, { method: 'GET', headers: { 'cache-control': 'no-store' } })).toEqual({ ok: false, reason: 'request-no-store' });
    expect(plan(200, [], route, { method: 'HEAD', headers: {} })).toEqual({ ok: false, reason: 'head' });
  });

  it('stores a qualified private/no-cache without the named fields, and drops hop-by-hop headers', () => {
    const v = plan(200, [['cache-control', 'max-age=5, private="x-user", no-cache="x-debug"'], ['connection', 'x-hop'], ['x-hop', '1']]);
    expect(v.ok).toBe(true);
    if (v.ok) for (const h of ['x-user', 'x-debug', 'x-hop', 'connection', 'transfer-encoding', 'cache-status']) expect(v.plan.drop.has(h)).toBe(true);
  });

  it('shares responses to Authorization only with public, s-maxage, must-revalidate or the route option', () => {
    const auth = { method: 'GET', headers: { authorization: 'Bearer x' } };
    expect(plan(200, [], route, auth)).toEqual({ ok: false, reason: 'authorization' });
    expect(plan(200, [['cache-control', 'public, max-age=5']], route, auth).ok).toBe(true);
    expect(plan(200, [['cache-control', 's-maxage=5']], route, auth).ok).toBe(true);
    expect(plan(200, [], resolveRouteOptions('t', { ttl: 5, shareAuthorized: true }), auth).ok).toBe(true);
  });

  it('reads stale-while-revalidate and stale-if-error, and must-revalidate turns them off', () => {
    const v = plan(200, [['cache-control', 'max-age=5, stale-while-revalidate=30, stale-if-error=60']]);
    expect(v.ok && [v.plan.staleWhileRevalidateMs, v.plan.staleIfErrorMs]).toEqual([30_000, 60_000]);
    const m = plan(200, [['cache-control', 'max-age=5, stale-while-revalidate=30, must-revalidate']]);
    expect(m.ok && m.plan.staleWhileRevalidateMs).toBe(0);
    const z = plan(200, [['cache-control', 'max-age=0, stale-while-revalidate=30']]);
    expect(z.ok).toBe(true);
  });

  it('reads tags from Cache-Tag (commas) and Surrogate-Key (spaces)', () => {
    const v = plan(200, [['cache-tag', 'a, b'], ['surrogate-key', 'c d']]);
    expect(v.ok && v.plan.headerTags.sort()).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('conditional requests', () => {
  it('compares entity tags weakly over a list and accepts *', () => {
    expect(notModified({ 'if-none-match': '"a", W/"b"' }, { etag: '"b"' })).toBe(true);
    expect(notModified({ 'if-none-match': 'W/"b"' }, { etag: 'W/"b"' })).toBe(true);
    expect(notModified({ 'if-none-match': '"c"' }, { etag: '"b"' })).toBe(false);
    expect(notModified({ 'if-none-match': '*' }, {})).toBe(true);
    const lm = 'Wed, 01 Jan 2025 00:00:00 GMT';
    expect(notModified({ 'if-modified-since': lm }, { lastModified: lm })).toBe(true);
    expect(notModified({ 'if-modified-since': 'Tue, 31 Dec 2024 00:00:00 GMT' }, { lastModified: lm })).toBe(false);
  });
});

describe('Cache-Status (RFC 9211) and X-Cache', () => {
  it('formats hits, misses, bypasses and stale answers', () => {
    expect(formatCacheStatus('cache-status', 'rediskit', { hit: true, ttlSeconds: 42 })).toBe('rediskit;hit;ttl=42');
    expect(formatCacheStatus('cache-status', 'rediskit', { hit: false, fwd: 'bypass', detail: 'range' })).toBe('rediskit;fwd=bypass;detail="range"');
    expect(formatCacheStatus('cache-status', 'rediskit', { hit: false, fwd: 'uri-miss', collapsed: false })).toBe('rediskit;fwd=uri-miss;collapsed=?0');
    expect(formatCacheStatus('x-cache', 'rediskit', { hit: true, ttlSeconds: -3 })).toBe('STALE');
    expect(formatCacheStatus('x-cache', 'rediskit', { hit: false, fwd: 'uri-miss' })).toBe('MISS');
  });

  it('formats a hit on the fast path exactly as the structured-field serializer does', () => {
    for (const kind of ['cache-status', 'x-cache'] as const) {
      for (const name of ['rediskit', 'edge-cache', 'cdn.example/v2']) {
        for (const ttlSeconds of [0, 42, -3, -0, 86_400_000]) {
          for (const collapsed of [false, true]) {
            const info = collapsed ? { hit: true as const, ttlSeconds, collapsed: true } : { hit: true as const, ttlSeconds };
            expect([kind, name, ttlSeconds, collapsed, formatHitStatus(kind, name, ttlSeconds, collapsed)]).toEqual([
              kind,
              name,
              ttlSeconds,
              collapsed,
              formatCacheStatus(kind, name, info),
            ]);
          }
        }
      }
    }
  });
});

describe('options', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return undefined;
  };
  it('throw coded errors at construction for bad values and unknown names', () => {
    expect(code(() => resolveRouteOptions('cache', { ttl: -5 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => resolveRouteOptions('cache', { tll: 5 } as never))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(code(() => resolveRouteOptions('cache', { statuses: [200, 700] }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => resolveRouteOptions('cache', { vary: ['bad header'] }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => resolveRouteOptions('cache', { vary: ['*'] }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => resolveRouteOptions('cache', { tags: [''] }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => resolveRouteOptions('cache', { statusHeader: 'x' as never }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => resolveCacheOptions('cache', { shards: 0 }, 100))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => resolveCacheOptions('cache', { failPolicy: 'maybe' as never }, 100))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => resolveCacheOptions('cache', { cacheName: 'has space' }, 100))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => resolveCacheOptions('cache', { defaults: { ttl: 0 } }, 100))).toBe('ERR_REDISKIT_INVALID_OPTION');
  });
  it('fill in every default', () => {
    const o = resolveCacheOptions('cache', {}, 100);
    expect(o).toMatchObject({ shards: 16, lockTtl: 5000, waitTimeout: 5000, passTtl: 5000, fillHorizon: 60_000, beta: 1, storeTimeout: 100, failPolicy: 'open', cacheName: 'rediskit' });
    expect(o.defaults.maxBodySize).toBe(1 << 20);
    expect([...o.defaults.statuses]).toEqual([200, 203, 204, 300, 301]);
    expect([...o.defaults.explicitStatuses]).toEqual([404]);
    expect(Object.isFrozen(o)).toBe(true);
  });
});
