import { describe, expect, it } from '@jest/globals';
import { parseDictionary, parseList } from 'structured-headers';
import { rateLimitHeaders, quotaExceededResponse, QUOTA_EXCEEDED_TYPE } from './headers';
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
