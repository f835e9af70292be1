import { describe, expect, it } from '@jest/globals';
import { parseDictionary, parseList, serializeDictionary, serializeList, type Item } from 'structured-headers';
import { rateLimitHeaders, quotaExceededResponse, QUOTA_EXCEEDED_TYPE, RateLimitHeaderWriter } from './headers';
import { resolvePolicies } from './policy';
import type { RateLimitDecision } from './rate-limiter';

const policies = resolvePolicies('t', [
  { name: 'burst', algorithm: 'gcra', limit: 10, window: 1000, burst: 20 },
  { name: 'daily', algorithm: 'fixed-window', limit: 1000, window: 86_400_000 },
  { name: 'inflight', algorithm: 'concurrency', limit: 4 },
]);

function decision(allowed: boolean): RateLimitDecision {
  return {
    allowed,
    limited: !allowed,
    shadow: false,
    source: 'redis',
    key: 'k',
    cost: 1,
    violated: allowed ? [] : ['burst'],
    retryAfterMs: allowed ? 0 : 1234,
    timeUs: 1_700_000_000_000_000,
    policies: [
      { name: 'burst', algorithm: 'gcra', limit: 10, window: 1000, capacity: 20, ok: allowed, remaining: allowed ? 7 : 0, resetMs: allowed ? 50 : 1234, retryAfterMs: allowed ? 0 : 1234 },
      { name: 'daily', algorithm: 'fixed-window', limit: 1000, window: 86_400_000, capacity: 1000, ok: true, remaining: 990, resetMs: 3_600_500, retryAfterMs: 0 },
      { name: 'inflight', algorithm: 'concurrency', limit: 4, window: 0, capacity: 4, ok: true, remaining: 3, resetMs: 0, retryAfterMs: 0 },
    ],
  };
}

const params = (list: ReturnType<typeof parseList>) => list.map(([name, p]) => [name, Object.fromEntries(p as Map<string, unknown>)]);

describe('draft-11 headers', () => {
  it('list every policy and its state as Structured Field lists', () => {
    const h = rateLimitHeaders(policies, decision(true), { format: 'draft-11', legacy: false });
    expect(params(parseList(h['ratelimit-policy']!))).toEqual([
      ['burst', { q: 10, w: 1, 'rk-burst': 20 }],
      ['daily', { q: 1000, w: 86400 }],
      ['inflight', { q: 4, qu: 'concurrent-requests' }],
    ]);
    expect(params(parseList(h.ratelimit!))).toEqual([
      ['burst', { r: 7, t: 1 }],
      ['daily', { r: 990, t: 3601 }],
      ['inflight', { r: 3 }],
    ]);
    expect(h['retry-after']).toBeUndefined();
  });

  it('on a rejection list the violated policies only, with a Retry-After no earlier than their t', () => {
    const h = rateLimitHeaders(policies, decision(false), { format: 'draft-11', legacy: false });
    expect(params(parseList(h.ratelimit!))).toEqual([['burst', { r: 0, t: 2 }]]);
    expect(h['retry-after']).toBe('2');
  });

  it('carry a partition key as a byte sequence', () => {
    const pk = new Uint8Array([1, 2, 3]);
    const h = rateLimitHeaders(policies.slice(1, 2), { ...decision(true), policies: decision(true).policies.slice(1, 2) }, { format: 'draft-11', legacy: false, partitionKey: pk });
    const [[, p]] = parseList(h.ratelimit!) as Array<[unknown, Map<string, unknown>]>;
    expect(new Uint8Array(p!.get('pk') as ArrayBuffer)).toEqual(pk);
  });
});

describe('older formats', () => {
  it('draft-7 and draft-6 report the most restrictive policy; legacy adds X-RateLimit-*', () => {
    const d7 = rateLimitHeaders(policies, decision(true), { format: 'draft-7', legacy: true });
    expect(Object.fromEntries(parseDictionary(d7.ratelimit!).entries())).toEqual({
      limit: [10, new Map()],
      remaining: [7, new Map()],
      reset: [1, new Map()],
    });
    expect(d7['ratelimit-policy']).toBe('10;w=1, 1000;w=86400');
    expect(d7['x-ratelimit-remaining']).toBe('7');
    expect(d7['x-ratelimit-reset']).toBe(String(Math.ceil((1_700_000_000_000 + 50) / 1000)));
    const d6 = rateLimitHeaders(policies, decision(true), { format: 'draft-6', legacy: false });
    expect([d6['ratelimit-limit'], d6['ratelimit-remaining'], d6['ratelimit-reset']]).toEqual(['10', '7', '1']);
    expect(rateLimitHeaders(policies, decision(true), { format: false, legacy: false })).toEqual({});
  });
});

describe('the 429 problem', () => {
  it('is RFC 9457 problem+json of the quota-exceeded type naming the violated policies', () => {
    const r = quotaExceededResponse(decision(false), { 'retry-after': '2' });
    expect(r.status).toBe(429);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(r.body)).toMatchObject({ type: QUOTA_EXCEEDED_TYPE, status: 429, title: 'Quota Exceeded', 'violated-policies': ['burst'] });
  });
});

describe('the hand-written Structured Field serialization', () => {
  // The headers are built as strings (every limited response carries them);
  // structured-headers must produce the very same bytes, and parse them back.
  const odd = resolvePolicies('t', [
    { name: 'say "hi"', algorithm: 'token-bucket', limit: 7, window: 1500, burst: 9 },
    { name: 'back\\slash', algorithm: 'fixed-window', limit: 999_999_999, window: 31_536_000_000 },
    { name: ' spaced out ', algorithm: 'concurrency', limit: 2 },
    { name: 'tiny', algorithm: 'fixed-window', limit: 1, window: 1 },
  ]);
  const results = odd.map((p, i) => ({
    name: p.name,
    algorithm: p.algorithm,
    limit: p.limit,
    window: p.window,
    capacity: p.capacity,
    ok: i !== 1,
    remaining: [0, 5, 1, 999_999_999][i]!,
    resetMs: [0, 1, 999, 31_536_000_000][i]!,
    retryAfterMs: i === 1 ? 2500 : 0,
  }));
  const byLibrary = (pk?: Uint8Array): { policy: string; limit: string } => {
    const param = (m: Map<string, unknown>) => (pk ? m.set('pk', pk) : m) as Map<string, never>;
    return {
      policy: serializeList(
        odd.map((p): Item => {
          const m = new Map<string, unknown>([['q', p.limit]]);
          if (p.algorithm === 'concurrency') m.set('qu', 'concurrent-requests');
          else m.set('w', Math.max(1, Math.ceil(p.window / 1000)));
          if (p.algorithm === 'token-bucket' && p.burst !== p.limit) m.set('rk-burst', p.burst);
          return [p.name, param(m)];
        }),
      ),
      limit: serializeList(
        results.map((r): Item => {
          const m = new Map<string, unknown>([['r', r.remaining]]);
          if (r.algorithm !== 'concurrency') m.set('t', Math.ceil(r.resetMs / 1000));
          return [r.name, param(m)];
        }),
      ),
    };
  };
  const allowed: RateLimitDecision = { ...decision(true), policies: results, violated: [], retryAfterMs: 0 };

  it('writes draft-11 fields byte for byte as structured-headers does', () => {
    for (const pk of [undefined, new Uint8Array([0, 255, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), Buffer.from('abcdef').subarray(2, 5)]) {
      const h = new RateLimitHeaderWriter(odd, 'draft-11', false).write(allowed, pk);
      const expected = byLibrary(pk);
      expect(h['ratelimit-policy']).toBe(expected.policy);
      expect(h.ratelimit).toBe(expected.limit);
      expect(parseList(h.ratelimit!)).toHaveLength(4);
    }
  });

  it('writes draft-7 fields byte for byte as structured-headers does', () => {
    const h = new RateLimitHeaderWriter(odd, 'draft-7', false).write(allowed);
    expect(h['ratelimit-policy']).toBe(serializeList(odd.filter((p) => p.algorithm !== 'concurrency').map((p): Item => [p.limit, new Map([['w', Math.max(1, Math.ceil(p.window / 1000))]])])));
    expect(h.ratelimit).toBe(serializeDictionary({ limit: 7, remaining: 0, reset: 0 }));
  });

  it('gives the same headers from one writer, request after request, as rateLimitHeaders()', () => {
    const writer = new RateLimitHeaderWriter(policies, 'draft-11', true);
    for (const d of [decision(true), decision(false), decision(true)]) {
      expect(writer.write(d)).toEqual(rateLimitHeaders(policies, d, { format: 'draft-11', legacy: true }));
    }
  });
});
