import { afterEach, describe, expect, it } from '@jest/globals';
import { createRedisKit, QUOTA_EXCEEDED_TYPE, type RedisKit, type RedisKitLogger } from '@rediskit/core';
import * as rkExpress from '@rediskit/express';
import * as rkKoa from '@rediskit/koa';
import { RateLimit } from '@rediskit/nestjs';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { parseList } from 'structured-headers';
import { ADAPTERS, type AdapterName } from '../harness';
import { header, hit, startApp, startRequest, type AppSpec, type Hit, type RunningApp } from './apps';

// One behaviour suite, run through Express, Koa and NestJS: the same routes,
// the same traffic, the same answers. Windows are long (a minute to a day),
// so counts are exact however slow the machine is.

const DAY = 86_400_000;
const MINUTE = 60_000;

const opened: Array<RunningApp | RedisKit> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function newKit(logger?: RedisKitLogger): Promise<RedisKit> {
  const kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('rlh'), logger: logger ?? false, operationTimeout: 2000 });
  opened.push(kit);
  await kit.ready();
  return kit;
}

async function app(adapter: AdapterName, spec: AppSpec, kit?: RedisKit): Promise<{ url: string; kit: RedisKit }> {
  const k = kit ?? (await newKit());
  const running = await startApp(adapter, k, spec);
  opened.push(running);
  return { url: running.url, kit: k };
}

/** `RateLimit` / `RateLimit-Policy` parsed with a Structured Field parser into [name, params]. */
function sf(value: string | undefined): Array<[string, Record<string, unknown>]> {
  if (value === undefined) return [];
  return parseList(value).map(([name, params]) => [String(name), Object.fromEntries(params as Map<string, unknown>)]);
}

async function sequence(url: string, paths: string[], headers: Record<string, string> = {}): Promise<Hit[]> {
  const out: Hit[] = [];
  for (const p of paths) out.push(await hit(url, p, { headers }));
  return out;
}

const statuses = (hs: Hit[]) => hs.map((h) => h.status);

const BUILDERS: Record<AdapterName, (options: never) => unknown> = {
  express: rkExpress.rateLimit,
  koa: rkKoa.rateLimit,
  nestjs: RateLimit,
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
  return undefined;
}

describe.each(ADAPTERS)('%s', (adapter) => {
  it('rejects bad configuration when the limiter is built, with coded errors', () => {
    const build = (o: unknown) => () => BUILDERS[adapter](o as never);
    expect(codeOf(build({ limit: 0, window: 1000 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(build({ limit: 1, window: 0.5 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(build({ limit: 1, window: 1000, headers: 'draft-99' }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(build({ limit: 1, window: 1000, ipv6Subnet: 129 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(build({ limit: 1, window: 1000, failPolicy: 'retry' }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(build({ policies: [{ name: 'a', limit: 1, window: 9 }, { name: 'a', limit: 2, window: 9 }] }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(build({ limit: 1, windowMs: 1000 }))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(codeOf(build({ policies: [{ limit: 1, window: 9, keyFn: () => 'x' }] }))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(codeOf(build({ limit: 1, window: 1000 }))).toBeUndefined();
  });

  it('sends exact draft-11 headers: r counts down, q and w right, Retry-After only on a 429', async () => {
    const { url } = await app(adapter, {
      routes: [
        {
          method: 'GET',
          path: '/items/:id',
          limit: {
            policies: [
              { name: 'per-minute', algorithm: 'fixed-window', limit: 3, window: MINUTE },
              { name: 'per-day', algorithm: 'gcra', limit: 100, window: DAY },
            ],
          },
        },
      ],
    });
    const hs = await sequence(url, ['/items/1', '/items/2', '/items/3', '/items/4']);
    expect(statuses(hs)).toEqual([200, 200, 200, 429]);
    for (const h of hs) {
      expect(sf(h.headers['ratelimit-policy'])).toEqual([
        ['per-minute', { q: 3, w: 60 }],
        ['per-day', { q: 100, w: 86400 }],
      ]);
    }
    const ok = hs.slice(0, 3).map((h) => sf(h.headers.ratelimit));
    expect(ok.map((l) => l.map(([n, p]) => [n, p.r]))).toEqual([
      [['per-minute', 2], ['per-day', 99]],
      [['per-minute', 1], ['per-day', 98]],
      [['per-minute', 0], ['per-day', 97]],
    ]);
    for (const l of ok) {
      // The fixed window ends a minute after its first request; GCRA earns the next unit 864 s after the first.
      expect(l[0]![1].t).toBeGreaterThanOrEqual(55);
      expect(l[0]![1].t).toBeLessThanOrEqual(60);
      expect(l[1]![1].t).toBeGreaterThanOrEqual(859);
      expect(l[1]![1].t).toBeLessThanOrEqual(864);
    }
    for (const h of hs.slice(0, 3)) expect(h.headers['retry-after']).toBeUndefined();

    const limited = hs[3]!;
    const rl = sf(limited.headers.ratelimit);
    expect(rl.map(([n, p]) => [n, p.r])).toEqual([['per-minute', 0]]);
    const retryAfter = limited.headers['retry-after']!;
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    expect(Number(retryAfter)).toBe(rl[0]![1].t);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.body).toEqual({
      type: QUOTA_EXCEEDED_TYPE,
      title: 'Quota Exceeded',
      status: 429,
      detail: expect.stringContaining('per-minute'),
      'violated-policies': ['per-minute'],
    });
  });

  it('keeps clients and routes apart; one route template is one bucket', async () => {
    const limit = { limit: 2, window: DAY };
    const { url } = await app(adapter, {
      trustProxy: 1,
      routes: [
        { method: 'GET', path: '/a/:id', limit },
        { method: 'GET', path: '/b', limit },
      ],
    });
    const alice = { 'x-forwarded-for': '203.0.113.1' };
    const bob = { 'x-forwarded-for': '203.0.113.2' };
    expect(statuses(await sequence(url, ['/a/1', '/a/2', '/a/3'], alice))).toEqual([200, 200, 429]);
    expect(statuses(await sequence(url, ['/a/9'], bob))).toEqual([200]);
    expect(statuses(await sequence(url, ['/b', '/b', '/b'], alice))).toEqual([200, 200, 429]);
  });

  it('shares one bucket across routes when the limiter is app-wide', async () => {
    const { url } = await app(adapter, {
      appLimit: { limit: 3, window: DAY },
      routes: [
        { method: 'GET', path: '/x' },
        { method: 'GET', path: '/y' },
      ],
    });
    expect(statuses(await sequence(url, ['/x', '/y', '/x', '/y']))).toEqual([200, 200, 200, 429]);
  });

  it('groups IPv6 clients by /56 and folds IPv4-mapped addresses into IPv4', async () => {
    const { url } = await app(adapter, { trustProxy: 1, routes: [{ method: 'GET', path: '/v6', limit: { limit: 2, window: DAY } }] });
    const from = (ip: string) => hit(url, '/v6', { headers: { 'x-forwarded-for': ip } });
    expect((await from('2001:db8:1:2::1')).status).toBe(200);
    expect((await from('2001:db8:1:2:ffff::9')).status).toBe(200);
    // Same /56 (2001:db8:1::/56): the third address of the prefix is over the limit.
    expect((await from('2001:db8:1:ff:1::1')).status).toBe(429);
    // Another /56 is another client.
    expect((await from('2001:db8:1:100::1')).status).toBe(200);
    expect((await from('198.51.100.7')).status).toBe(200);
    expect((await from('::ffff:198.51.100.7')).status).toBe(200);
    expect((await from('198.51.100.7')).status).toBe(429);
  });

  it('decides several policies all or nothing: a cost of 5 with 4 left is rejected and not charged', async () => {
    const { url } = await app(adapter, {
      routes: [
        {
          method: 'POST',
          path: '/jobs',
          limit: {
            cost: (r: { headers: Record<string, string | string[] | undefined> }) => Number(header(r, 'x-cost') ?? 1),
            policies: [
              { name: 'small', algorithm: 'token-bucket', limit: 10, window: DAY },
              { name: 'large', algorithm: 'sliding-window', limit: 100, window: DAY },
            ],
          },
        },
      ],
    });
    const post = (cost: number) => hit(url, '/jobs', { method: 'POST', headers: { 'x-cost': String(cost) } });
    const first = await post(6);
    expect(sf(first.headers.ratelimit).map(([n, p]) => [n, p.r])).toEqual([
      ['small', 4],
      ['large', 94],
    ]);
    const rejected = await post(5);
    expect(rejected.status).toBe(429);
    expect(rejected.body['violated-policies']).toEqual(['small']);
    expect(sf(rejected.headers.ratelimit).map(([n, p]) => [n, p.r])).toEqual([['small', 4]]);
    // Neither policy was charged for the rejected request.
    const fits = await post(4);
    expect(sf(fits.headers.ratelimit).map(([n, p]) => [n, p.r])).toEqual([
      ['small', 0],
      ['large', 90],
    ]);
    expect((await post(0)).status).toBe(200);
  });

  it('limits per IP and per user at once; a request without a user skips the user policy', async () => {
    const { url } = await app(adapter, {
      trustProxy: 1,
      routes: [
        {
          method: 'POST',
          path: '/login',
          limit: {
            policies: [
              { name: 'ip', algorithm: 'fixed-window', limit: 5, window: DAY },
              { name: 'user', algorithm: 'fixed-window', limit: 2, window: DAY, key: (r: { headers: Record<string, string | string[] | undefined> }) => header(r, 'x-user') },
            ],
          },
        },
      ],
    });
    const login = (ip: string, user?: string) =>
      hit(url, '/login', { method: 'POST', headers: { 'x-forwarded-for': ip, ...(user ? { 'x-user': user } : {}) } });
    expect((await login('192.0.2.1', 'alice')).status).toBe(200);
    expect((await login('192.0.2.2', 'alice')).status).toBe(200);
    const third = await login('192.0.2.3', 'alice');
    expect(third.status).toBe(429);
    expect(third.body['violated-policies']).toEqual(['user']);
    const anonymous = await login('192.0.2.3');
    expect(anonymous.status).toBe(200);
    expect(sf(anonymous.headers.ratelimit).map(([n]) => n)).toEqual(['ip']);
  });

  it('gives failed responses back, never below zero', async () => {
    const { url } = await app(adapter, {
      routes: [
        {
          method: 'GET',
          path: '/maybe',
          limit: { limit: 3, window: DAY, skipFailedRequests: true },
          reply: (h) => ({ status: Number(h['x-status'] ?? 200) }),
        },
      ],
    });
    const get = (status: number) => hit(url, '/maybe', { headers: { 'x-status': String(status) } });
    expect((await get(500)).status).toBe(500);
    expect((await get(404)).status).toBe(404);
    // Both failures were given back (each once): three successes still fit, and no more.
    await waitFor('the refunds to land', async () => sf((await get(400)).headers.ratelimit)[0]![1].r === 2);
    const oks = [await get(200), await get(200), await get(200)];
    expect(statuses(oks)).toEqual([200, 200, 200]);
    expect(sf(oks[2]!.headers.ratelimit)[0]![1].r).toBe(0);
    expect((await get(200)).status).toBe(429);
  });

  it('refunds an aborted request once', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const { url } = await app(adapter, {
      routes: [
        {
          method: 'GET',
          path: '/slow',
          limit: {
            limit: 2,
            window: DAY,
            skipFailedRequests: true,
            cost: (r: { headers: Record<string, string | string[] | undefined> }) => (header(r, 'x-peek') ? 0 : 1),
          },
          reply: async (h) => {
            if (h['x-slow']) {
              started++;
              await gate;
            }
            return {};
          },
        },
      ],
    });
    const peek = async () => sf((await hit(url, '/slow', { headers: { 'x-peek': '1' } })).headers.ratelimit)[0]![1].r;
    const abort = startRequest(url, '/slow', { 'x-slow': '1' });
    await waitFor('the request to reach the handler', async () => started === 1);
    expect(await peek()).toBe(1);
    abort();
    // The client went away: its charge comes back, once.
    await waitFor('the refund of the aborted request', async () => (await peek()) === 2);
    release();
    expect(statuses(await sequence(url, ['/slow', '/slow', '/slow']))).toEqual([200, 200, 429]);
  });

  it('gives successful responses back with skipSuccessfulRequests', async () => {
    const { url } = await app(adapter, {
      routes: [
        {
          method: 'GET',
          path: '/probe',
          limit: { limit: 2, window: DAY, skipSuccessfulRequests: true },
          reply: (h) => ({ status: Number(h['x-status'] ?? 200) }),
        },
      ],
    });
    const get = (status: number) => hit(url, '/probe', { headers: { 'x-status': String(status) } });
    for (let i = 0; i < 5; i++) expect((await get(200)).status).toBe(200);
    expect(statuses([await get(401), await get(401), await get(200)])).toEqual([401, 401, 429]);
  });

  it('skips requests a predicate names, with no headers', async () => {
    const { url } = await app(adapter, {
      routes: [
        {
          method: 'GET',
          path: '/s',
          limit: { limit: 1, window: DAY, skip: (r: { headers: Record<string, string | string[] | undefined> }) => header(r, 'x-internal') === 'yes' },
        },
      ],
    });
    expect((await hit(url, '/s')).status).toBe(200);
    const inside = await hit(url, '/s', { headers: { 'x-internal': 'yes' } });
    expect(inside.status).toBe(200);
    expect(inside.headers.ratelimit).toBeUndefined();
    expect((await hit(url, '/s')).status).toBe(429);
  });

  it('limits requests in flight and frees the slot when the response ends', async () => {
    const gates: Array<() => void> = [];
    const { url } = await app(adapter, {
      routes: [
        {
          method: 'GET',
          path: '/work',
          limit: { policies: [{ name: 'inflight', algorithm: 'concurrency', limit: 2, retryAfter: 2000 }] },
          reply: async (h) => {
            if (h['x-hold']) await new Promise<void>((r) => gates.push(r));
            return {};
          },
        },
      ],
    });
    const held = [hit(url, '/work', { headers: { 'x-hold': '1' } }), hit(url, '/work', { headers: { 'x-hold': '1' } })];
    await waitFor('two requests in flight', async () => gates.length === 2);
    const full = await hit(url, '/work');
    expect(full.status).toBe(429);
    expect(full.headers['retry-after']).toBe('2');
    expect(sf(full.headers['ratelimit-policy'])).toEqual([['inflight', { q: 2, qu: 'concurrent-requests' }]]);
    expect(sf(full.headers.ratelimit)).toEqual([['inflight', { r: 0 }]]);
    gates.shift()!();
    expect((await held[0]!).status).toBe(200);
    // The finished request's slot is free again (released as its response ended).
    await waitFor('a free slot', async () => (await hit(url, '/work')).status === 200);
    const probe = await hit(url, '/work');
    expect(sf(probe.headers.ratelimit)).toEqual([['inflight', { r: 0 }]]);
    gates.shift()!();
    expect((await held[1]!).status).toBe(200);
  });

  it('counts would-be rejections in shadow mode and rejects nothing', async () => {
    const kit = await newKit();
    const limited: boolean[] = [];
    kit.events.on('ratelimit:limited', (e) => limited.push(e.shadow));
    const { url } = await app(adapter, { routes: [{ method: 'GET', path: '/dry', limit: { limit: 1, window: DAY, shadow: true } }] }, kit);
    expect(statuses(await sequence(url, ['/dry', '/dry', '/dry']))).toEqual([200, 200, 200]);
    expect(limited).toEqual([true, true]);
  });

  it('warns once about a trust proxy that trusts everyone, and about X-Forwarded-For it ignores', async () => {
    const lines: string[] = [];
    const logger: RedisKitLogger = { warn: (m) => lines.push(m), error: () => {} };
    const trusting = await newKit(logger);
    const { url } = await app(adapter, { trustProxy: true, routes: [{ method: 'GET', path: '/t', limit: { limit: 10, window: DAY } }] }, trusting);
    await sequence(url, ['/t', '/t']);
    expect(lines.filter((l) => l.includes('"trustProxy"'))).toHaveLength(1);

    const lines2: string[] = [];
    const plain = await newKit({ warn: (m) => lines2.push(m), error: () => {} });
    const second = await app(adapter, { routes: [{ method: 'GET', path: '/t', limit: { limit: 10, window: DAY } }] }, plain);
    await sequence(second.url, ['/t']);
    expect(lines2).toHaveLength(0);
    await sequence(second.url, ['/t', '/t'], { 'x-forwarded-for': '198.51.100.1' });
    expect(lines2.filter((l) => l.includes('"xForwardedFor"'))).toHaveLength(1);
  });

  it('sends older header formats and a partition key when asked', async () => {
    const { url } = await app(adapter, {
      routes: [
        { method: 'GET', path: '/old', limit: { algorithm: 'fixed-window', limit: 5, window: MINUTE, headers: 'draft-7', legacyHeaders: true } },
        { method: 'GET', path: '/pk', limit: { limit: 5, window: MINUTE, partitionKey: true } },
        { method: 'GET', path: '/none', limit: { limit: 1, window: MINUTE, headers: false } },
      ],
    });
    const old = await hit(url, '/old');
    expect(old.headers.ratelimit).toMatch(/^limit=5, remaining=4, reset=(5\d|60)$/);
    expect(old.headers['ratelimit-policy']).toBe('5;w=60');
    expect(old.headers['x-ratelimit-remaining']).toBe('4');
    const pk = await hit(url, '/pk');
    const [[, params]] = sf(pk.headers.ratelimit);
    expect((params!.pk as ArrayBuffer).byteLength).toBe(12);
    const none = await sequence(url, ['/none', '/none']);
    expect(none[0]!.headers.ratelimit).toBeUndefined();
    expect(none[1]!.status).toBe(429);
    expect(none[1]!.headers['retry-after']).toMatch(/^\d+$/);
  });
});

it('gives identical decisions for identical traffic through all three adapters', async () => {
  const traces: Record<string, unknown[]> = {};
  for (const adapter of ADAPTERS) {
    const { url } = await app(adapter, {
      trustProxy: 1,
      routes: [
        {
          method: 'GET',
          path: '/r/:id',
          limit: {
            cost: (r: { headers: Record<string, string | string[] | undefined> }) => Number(header(r, 'x-cost') ?? 1),
            policies: [
              { name: 'fw', algorithm: 'fixed-window', limit: 7, window: DAY },
              { name: 'sw', algorithm: 'sliding-window', limit: 9, window: DAY },
              { name: 'tb', algorithm: 'token-bucket', limit: 8, window: DAY, burst: 6 },
              { name: 'gcra', algorithm: 'gcra', limit: 10, window: DAY, burst: 10 },
            ],
          },
        },
      ],
    });
    const trace: unknown[] = [];
    const clients = ['203.0.113.5', '2001:db8:aa::1', '::ffff:203.0.113.5', '2001:db8:aa:11::2'];
    for (let i = 0; i < 28; i++) {
      const h = await hit(url, `/r/${i % 5}`, { headers: { 'x-forwarded-for': clients[i % 4]!, 'x-cost': String((i % 3) + (i % 7 === 0 ? 2 : 0)) } });
      trace.push([h.status, sf(h.headers.ratelimit).map(([n, p]) => [n, p.r]), h.status === 429 ? h.body['violated-policies'] : null]);
    }
    traces[adapter] = trace;
  }
  expect(traces.koa).toEqual(traces.express);
  expect(traces.nestjs).toEqual(traces.express);
  expect((traces.express as Array<[number]>).some(([s]) => s === 429)).toBe(true);
});
