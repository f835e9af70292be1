import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createRedisKit, RedisCache, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { Readable } from 'node:stream';
import request from 'supertest';
import { ADAPTERS } from '../harness';
import { cacheStatus, latch, startApp, type RouteSpec, type TestApp } from './apps';
import { pastThisMillisecond } from './topology';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const binary = <T extends request.Test>(r: T): T =>
  r.buffer(true).parse((res, cb) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('end', () => cb(null, Buffer.concat(parts)));
  }) as T;

describe.each(ADAPTERS)('HTTP cache through %s', (adapter) => {
  let kit: RedisKit;
  let app: TestApp | undefined;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix(`cache-${adapter}`), operationTimeout: 2000, logger: false });
    await kit.ready();
    if (process.env.DEBUG_CACHE) kit.events.onAny((name, payload) => console.log(name, JSON.stringify(payload), (payload as any).error?.message));
  });
  afterEach(async () => {
    await RedisCache.of(kit).idle();
    for (const a of apps.splice(0)) await a.close();
    app = undefined;
  });
  afterAll(() => kit.close());

  async function start(routes: RouteSpec[], k: RedisKit = kit): Promise<TestApp> {
    const a = await startApp(adapter, k, routes);
    apps.push(a);
    app ??= a;
    return a;
  }

  it('answers a miss from the origin, then the same status, headers and body from the cache with Age', async () => {
    let calls = 0;
    const a = await start([
      {
        method: 'GET',
        path: '/items/:id',
        cache: { ttl: 60_000 },
        handler: ({ params }) => {
          calls++;
          return { status: 200, headers: { 'x-item': params.id!, link: ['</a>; rel=a', '</b>; rel=b'] }, body: { id: params.id, n: calls } };
        },
      },
    ]);
    const miss = await request(a.url).get('/items/7?b=2&a=1').expect(200);
    expect(cacheStatus(miss.headers)).toEqual({ cache: 'rediskit', hit: false, fwd: 'uri-miss' });
    expect(miss.body).toEqual({ id: '7', n: 1 });
    const hit = await request(a.url).get('/items/7?a=1&b=2').expect(200);
    expect(hit.body).toEqual({ id: '7', n: 1 });
    expect(cacheStatus(hit.headers)).toMatchObject({ hit: true });
    expect(cacheStatus(hit.headers).ttl).toBeGreaterThan(0);
    expect(hit.headers.age).toMatch(/^\d+$/);
    for (const name of ['content-type', 'content-length', 'x-item', 'link', 'etag']) {
      expect(hit.headers[name]).toBe(miss.headers[name]);
    }
    expect(calls).toBe(1);
  });
  it('never stores a POST, and a 2xx POST purges the stored GET of the same URL', async () => {
    let version = 1;
    let posts = 0;
    const a = await start([
      { method: 'GET', path: '/doc', cache: { ttl: 60_000 }, handler: () => ({ body: { version } }) },
      {
        method: 'POST',
        path: '/doc',
        cache: {},
        handler: () => {
          posts++;
          version++;
          return { status: 201, body: { posts } };
        },
      },
    ]);
    await request(a.url).get('/doc').expect(200, { version: 1 });
    expect(cacheStatus((await request(a.url).get('/doc').expect(200, { version: 1 })).headers).hit).toBe(true);
    const post = await request(a.url).post('/doc').expect(201, { posts: 1 });
    expect(cacheStatus(post.headers)).toMatchObject({ hit: false, fwd: 'method' });
    await request(a.url).post('/doc').expect(201, { posts: 2 });
    const after = await request(a.url).get('/doc').expect(200, { version: 3 });
    expect(cacheStatus(after.headers).hit).toBe(false);
  });

  it('answers HEAD from the GET entry, and a HEAD miss never stores an empty entry', async () => {
    const calls: string[] = [];
    const a = await start([
      {
        method: 'GET',
        path: '/h/:id',
        cache: { ttl: 60_000 },
        handler: ({ method, params }) => {
          calls.push(`${method} ${params.id}`);
          return { headers: { 'content-type': 'text/plain' }, body: `body of ${params.id}` };
        },
      },
    ]);
    // GET then HEAD: the HEAD is a hit with the GET's headers and no body.
    const get = await request(a.url).get('/h/1').expect(200, 'body of 1');
    const head = await request(a.url).head('/h/1').expect(200);
    expect(cacheStatus(head.headers).hit).toBe(true);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.text ?? '').toBe('');
    expect(calls).toEqual(['GET 1']);
    // HEAD then GET: the HEAD goes to the origin, the GET is still a miss with the full body.
    await request(a.url).head('/h/2').expect(200);
    const miss = await request(a.url).get('/h/2').expect(200, 'body of 2');
    expect(cacheStatus(miss.headers).hit).toBe(false);
    expect(cacheStatus((await request(a.url).get('/h/2').expect(200, 'body of 2')).headers).hit).toBe(true);
    expect(calls).toEqual(['GET 1', 'HEAD 2', 'GET 2']);
  });

  it('keeps one variant per Accept-Language and normalized Accept-Encoding', async () => {
    let calls = 0;
    const a = await start([
      {
        method: 'GET',
        path: '/greet',
        cache: { ttl: 60_000 },
        handler: ({ headers }) => {
          calls++;
          const lang = String(headers['accept-language'] ?? 'en');
          return { headers: { vary: 'Accept-Language, Accept-Encoding' }, body: { hello: lang.startsWith('fr') ? 'bonjour' : 'hello', enc: headers['accept-encoding'] ?? null } };
        },
      },
    ]);
    const en1 = await request(a.url).get('/greet').set('accept-language', 'en').set('accept-encoding', 'gzip, br').expect(200);
    expect(en1.body.hello).toBe('hello');
    const fr1 = await request(a.url).get('/greet').set('accept-language', 'fr').set('accept-encoding', 'gzip, br').expect(200);
    expect(fr1.body.hello).toBe('bonjour');
    expect(cacheStatus(fr1.headers)).toMatchObject({ hit: false, fwd: 'vary-miss' });
    const en2 = await request(a.url).get('/greet').set('accept-language', 'en').set('accept-encoding', 'br,gzip').expect(200);
    expect(cacheStatus(en2.headers).hit).toBe(true);
    expect(en2.body.hello).toBe('hello');
    const fr2 = await request(a.url).get('/greet').set('accept-language', 'fr').set('accept-encoding', 'br, gzip').expect(200);
    expect(cacheStatus(fr2.headers).hit).toBe(true);
    expect(fr2.body.hello).toBe('bonjour');
    const other = await request(a.url).get('/greet').set('accept-language', 'en').set('accept-encoding', 'identity').expect(200);
    expect(cacheStatus(other.headers).hit).toBe(false);
    expect(calls).toBe(3);
    // Another instance has never seen this URL: it learns the vary list from Redis.
    const kitB = createRedisKit({ url: await sharedRedisUrl(), prefix: kit.keys.prefix, operationTimeout: 2000, logger: false });
    await kitB.ready();
    try {
      const b = await start(
        [{ method: 'GET', path: '/greet', cache: { ttl: 60_000 }, handler: () => (calls++, { headers: { vary: 'Accept-Language' }, body: { hello: 'hallo' } }) }],
        kitB,
      );
      const frB = await request(b.url).get('/greet').set('accept-language', 'fr').set('accept-encoding', 'gzip, br').expect(200);
      expect(cacheStatus(frB.headers).hit).toBe(true);
      expect(frB.body.hello).toBe('bonjour');
      const deB = await request(b.url).get('/greet').set('accept-language', 'de').set('accept-encoding', 'gzip').expect(200);
      expect(cacheStatus(deB.headers)).toMatchObject({ hit: false, fwd: 'vary-miss' });
      expect(calls).toBe(4);
    } finally {
      await kitB.close();
    }
  });

  it('never stores Vary: *, no-store, private, Set-Cookie, errors, or responses without freshness', async () => {
    const calls: Record<string, number> = {};
    const replies: Record<string, () => { status?: number; headers?: Record<string, string>; body: object; throws?: boolean }> = {
      star: () => ({ headers: { vary: '*' }, body: {} }),
      nostore: () => ({ headers: { 'cache-control': 'no-store' }, body: {} }),
      private: () => ({ headers: { 'cache-control': 'private, max-age=60' }, body: {} }),
      cookie: () => ({ headers: { 'set-cookie': `sid=${Math.random()}` }, body: {} }),
      error: () => ({ status: 500, body: {} }),
      thrown: () => ({ body: {}, throws: true }),
      unavailable: () => ({ status: 503, headers: { 'cache-control': 'max-age=60' }, body: {} }),
    };
    const a = await start([
      {
        method: 'GET',
        path: '/no/:kind',
        cache: { ttl: 60_000 },
        handler: ({ params }) => {
          calls[params.kind!] = (calls[params.kind!] ?? 0) + 1;
          return replies[params.kind!]!();
        },
      },
      { method: 'GET', path: '/nofresh', cache: {}, handler: () => ((calls.nofresh = (calls.nofresh ?? 0) + 1), { body: {} }) },
    ]);
    for (const kind of Object.keys(replies)) {
      await request(a.url).get(`/no/${kind}`);
      const second = await request(a.url).get(`/no/${kind}`);
      // Koa's error handler drops every header of a thrown error's response, Cache-Status included.
      const hit = second.headers['cache-status'] ? cacheStatus(second.headers).hit : false;
      expect([kind, hit]).toEqual([kind, false]);
    }
    await request(a.url).get('/nofresh');
    await request(a.url).get('/nofresh');
    for (const kind of [...Object.keys(replies), 'nofresh']) expect([kind, calls[kind]]).toEqual([kind, 2]);
  });

  it('gives every client its own Set-Cookie, also when they arrive together', async () => {
    let n = 0;
    const a = await start([
      {
        method: 'GET',
        path: '/login',
        cache: { ttl: 60_000 },
        handler: async () => {
          n++;
          await new Promise((r) => setTimeout(r, 30));
          return { headers: { 'set-cookie': `sid=${n}-${Math.random()}` }, body: { n } };
        },
      },
    ]);
    const responses = await Promise.all(Array.from({ length: 5 }, () => request(a.url).get('/login').expect(200)));
    const cookies = responses.map((r) => String(r.headers['set-cookie']));
    expect(new Set(cookies).size).toBe(5);
    const later = await request(a.url).get('/login').expect(200);
    expect(cookies).not.toContain(String(later.headers['set-cookie']));
  });

  it('shares a response to a request with Authorization only when it says public or s-maxage', async () => {
    const calls: string[] = [];
    const a = await start([
      {
        method: 'GET',
        path: '/me',
        cache: { ttl: 60_000 },
        handler: ({ headers }) => (calls.push(`me ${headers.authorization}`), { body: { user: headers.authorization ?? null } }),
      },
      {
        method: 'GET',
        path: '/catalog',
        cache: {},
        handler: ({ headers }) => (calls.push(`catalog ${headers.authorization}`), { headers: { 'cache-control': 'public, max-age=60' }, body: { shared: true } }),
      },
    ]);
    await request(a.url).get('/me').set('authorization', 'Bearer alice').expect(200, { user: 'Bearer alice' });
    await request(a.url).get('/me').set('authorization', 'Bearer bob').expect(200, { user: 'Bearer bob' });
    await request(a.url).get('/me').expect(200, { user: null });
    await request(a.url).get('/catalog').set('authorization', 'Bearer alice').expect(200);
    const shared = await request(a.url).get('/catalog').set('authorization', 'Bearer bob').expect(200, { shared: true });
    expect(cacheStatus(shared.headers).hit).toBe(true);
    expect(calls).toEqual(['me Bearer alice', 'me Bearer bob', 'me undefined', 'catalog Bearer alice']);
  });

  it('takes s-maxage over max-age, and the entry expires with it', async () => {
    let calls = 0;
    const a = await start([
      { method: 'GET', path: '/short', cache: {}, handler: () => (calls++, { headers: { 'cache-control': 'max-age=600, s-maxage=1' }, body: { calls } }) },
    ]);
    await request(a.url).get('/short').expect(200, { calls: 1 });
    const hit = await request(a.url).get('/short').expect(200, { calls: 1 });
    expect(cacheStatus(hit.headers).ttl).toBeLessThanOrEqual(1);
    await waitFor('the entry to expire', async () => cacheStatus((await request(a.url).get('/short')).headers).hit === false, 10_000, 100);
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it('answers only-if-cached with 504 on a miss and from the cache on a hit', async () => {
    const a = await start([{ method: 'GET', path: '/oic', cache: { ttl: 60_000 }, handler: () => ({ body: { ok: true } }) }]);
    const miss = await request(a.url).get('/oic').set('cache-control', 'only-if-cached').expect(504);
    expect(miss.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(miss.body.status).toBe(504);
    await request(a.url).get('/oic').expect(200);
    await request(a.url).get('/oic').set('cache-control', 'only-if-cached').expect(200, { ok: true });
  });

  it('answers If-None-Match from the cache with 304 and the validators and caching headers', async () => {
    let calls = 0;
    const a = await start([
      {
        method: 'GET',
        path: '/etag',
        cache: {},
        handler: () => (
          calls++,
          {
            headers: {
              etag: '"v1"',
              'cache-control': 'public, max-age=60',
              vary: 'Accept-Language',
              expires: new Date(Date.now() + 60_000).toUTCString(),
              'content-type': 'text/plain',
              'x-other': 'dropped on 304',
            },
            body: 'payload',
          }
        ),
      },
    ]);
    // A conditional miss still fills the cache with the full response.
    const first = await request(a.url).get('/etag').set('if-none-match', '"v1"');
    expect([200, 304]).toContain(first.status);
    const r = await request(a.url).get('/etag').set('if-none-match', 'W/"zzz", W/"v1"').expect(304);
    expect(r.headers.etag).toBe('"v1"');
    expect(r.headers['cache-control']).toBe('public, max-age=60');
    expect(r.headers.vary).toBe('Accept-Language');
    expect(r.headers.expires).toBeDefined();
    expect(r.headers['x-other']).toBeUndefined();
    expect(cacheStatus(r.headers).hit).toBe(true);
    await request(a.url).get('/etag').set('if-none-match', '*').expect(304);
    await request(a.url).get('/etag').set('if-none-match', '"other"').expect(200, 'payload');
    expect(calls).toBe(1);
  });

  it('serves a 1 MiB random binary body written in chunks byte-identical from the cache', async () => {
    const body = randomBytes(1 << 20);
    let calls = 0;
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 100_000) chunks.push(body.subarray(i, i + 100_000));
    const a = await start([
      {
        method: 'GET',
        path: '/blob',
        cache: { ttl: 60_000, maxBodySize: 2 << 20 },
        handler: () => (calls++, { headers: { 'content-type': 'application/octet-stream' }, chunks }),
      },
    ]);
    const miss = await binary(request(a.url).get('/blob')).expect(200);
    expect(sha(miss.body as Buffer)).toBe(sha(body));
    const hit = await binary(request(a.url).get('/blob')).expect(200);
    expect(cacheStatus(hit.headers).hit).toBe(true);
    expect(sha(hit.body as Buffer)).toBe(sha(body));
    expect(calls).toBe(1);
  });

  it('sends a body above the size cap whole but never stores it', async () => {
    const body = randomBytes(50_000);
    let calls = 0;
    const a = await start([
      { method: 'GET', path: '/big', cache: { ttl: 60_000, maxBodySize: 10_000 }, handler: () => (calls++, { headers: { 'content-type': 'application/octet-stream' }, body }) },
      {
        method: 'GET',
        path: '/big-stream',
        cache: { ttl: 60_000, maxBodySize: 10_000 },
        handler: () => (calls++, { headers: { 'content-type': 'application/octet-stream' }, stream: () => Readable.from([body.subarray(0, 25_000), body.subarray(25_000)]) }),
      },
    ]);
    for (const path of ['/big', '/big-stream']) {
      const first = await binary(request(a.url).get(path)).expect(200);
      expect(sha(first.body as Buffer)).toBe(sha(body));
      const second = await binary(request(a.url).get(path)).expect(200);
      expect(sha(second.body as Buffer)).toBe(sha(body));
      expect(cacheStatus(second.headers).hit).toBe(false);
    }
    expect(calls).toBe(4);
  });

  it('stores a streamed body and serves it from the cache', async () => {
    let calls = 0;
    const a = await start([
      { method: 'GET', path: '/stream', cache: { ttl: 60_000 }, handler: () => (calls++, { headers: { 'content-type': 'text/plain' }, stream: () => Readable.from(['a', 'b', 'c']) }) },
    ]);
    await request(a.url).get('/stream').expect(200, 'abc');
    const hit = await request(a.url).get('/stream').expect(200, 'abc');
    expect(cacheStatus(hit.headers).hit).toBe(true);
    expect(calls).toBe(1);
  });

  it('coalesces 100 concurrent misses in one process into one origin call', async () => {
    let calls = 0;
    const gate = latch();
    const a = await start([
      {
        method: 'GET',
        path: '/hot',
        cache: { ttl: 60_000 },
        handler: async () => {
          calls++;
          gate.enter();
          await gate.wait;
          return { body: { calls } };
        },
      },
    ]);
    const all = Promise.all(Array.from({ length: 100 }, () => request(a.url).get('/hot')));
    await gate.entered;
    gate.open();
    const responses = await all;
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect(responses.every((r) => r.body.calls === 1)).toBe(true);
    expect(calls).toBe(1);
  });

  it('coalesces 50 concurrent misses split across two app instances into one origin call', async () => {
    let calls = 0;
    const gate = latch();
    const routes: RouteSpec[] = [
      {
        method: 'GET',
        path: '/shared',
        cache: { ttl: 60_000 },
        handler: async () => {
          calls++;
          gate.enter();
          await gate.wait;
          return { body: { calls } };
        },
      },
    ];
    const kitB = createRedisKit({ url: await sharedRedisUrl(), prefix: kit.keys.prefix, operationTimeout: 2000, logger: false });
    await kitB.ready();
    let waitingOnB = 0;
    kitB.events.on('cache:miss', () => waitingOnB++);
    try {
      const a = await start(routes);
      const b = await start(routes, kitB);
      let arrived = 0;
      for (const s of [a.server, b.server]) s.on('request', () => arrived++);
      const first = request(a.url).get('/shared').then((r) => r);
      await gate.entered;
      const rest = Array.from({ length: 49 }, (_, i) => request((i % 2 ? a : b).url).get('/shared').then((r) => r));
      // The other 49 are waiting (in process on A, on the Redis lock on B) while the origin holds.
      await waitFor('all 50 requests to wait', async () => arrived === 50 && waitingOnB > 0, 20_000, 10);
      gate.open();
      const responses = await Promise.all([first, ...rest]);
      expect(responses.every((r) => r.status === 200 && r.body.calls === 1)).toBe(true);
      expect(calls).toBe(1);
    } finally {
      await RedisCache.of(kitB).idle();
      await kitB.close();
    }
  });

  it('never hands one variant to a waiter that varies from it', async () => {
    let calls = 0;
    const gate = latch();
    const a = await start([
      {
        method: 'GET',
        path: '/lang',
        cache: { ttl: 60_000 },
        handler: async ({ headers }) => {
          calls++;
          gate.enter();
          await gate.wait;
          return { headers: { vary: 'accept-language' }, body: { lang: headers['accept-language'] } };
        },
      },
    ]);
    const en = request(a.url).get('/lang').set('accept-language', 'en').then((r) => r);
    await gate.entered;
    const others = ['fr', 'en', 'de'].map((l) => request(a.url).get('/lang').set('accept-language', l).then((r) => r));
    gate.open();
    const [r1, ...rest] = await Promise.all([en, ...others]);
    expect(r1!.body.lang).toBe('en');
    expect(rest.map((r) => r.body.lang ?? `${r.status} ${r.text}`)).toEqual(['fr', 'en', 'de']);
  });

  it('completes and stores the fill when the first client hangs up', async () => {
    let calls = 0;
    const gate = latch();
    const a = await start([
      {
        method: 'GET',
        path: '/slow',
        cache: { ttl: 60_000 },
        handler: async () => {
          calls++;
          gate.enter();
          await gate.wait;
          return { body: { calls } };
        },
      },
    ]);
    const abort = new AbortController();
    const gone = fetch(`${a.url}/slow`, { signal: abort.signal }).catch(() => 'aborted');
    await gate.entered;
    abort.abort();
    expect(await gone).toBe('aborted');
    gate.open();
    // only-if-cached never calls the origin: 504 until the abandoned request's fill is stored.
    await waitFor('the fill to be stored', async () => (await request(a.url).get('/slow').set('cache-control', 'only-if-cached')).status === 200, 10_000, 50);
    const hit = await request(a.url).get('/slow').expect(200, { calls: 1 });
    expect(cacheStatus(hit.headers).hit).toBe(true);
    expect(calls).toBe(1);
  });

  it('serves stale at once while exactly one background refresh runs (stale-while-revalidate)', async () => {
    let version = 1;
    let calls = 0;
    let gate: ReturnType<typeof latch> | undefined;
    const a = await start([
      {
        method: 'GET',
        path: '/swr',
        cache: { ttl: 200, staleWhileRevalidate: 60_000 },
        handler: async () => {
          calls++;
          if (gate) {
            gate.enter();
            await gate.wait;
          }
          // The refreshed copy stays fresh for a minute, so the last request
          // below is a plain hit however slow the machine is.
          return version === 2 ? { headers: { 'cache-control': 'max-age=60' }, body: { version } } : { body: { version } };
        },
      },
    ]);
    await request(a.url).get('/swr').expect(200, { version: 1 });
    const storedAt = await kit.time();
    await waitFor('the 200 ms freshness to run out', async () => (await kit.time()) > storedAt + 250, 10_000, 20);
    gate = latch();
    version = 2;
    const stale = await Promise.all(Array.from({ length: 5 }, () => request(a.url).get('/swr').expect(200, { version: 1 })));
    for (const r of stale) expect(cacheStatus(r.headers).ttl).toBeLessThan(0);
    await gate.entered; // the refresh is running, held by the latch, while stale answers went out
    expect(calls).toBe(2);
    gate.open();
    await RedisCache.of(kit).idle();
    const fresh = await request(a.url).get('/swr').expect(200, { version: 2 });
    expect(cacheStatus(fresh.headers).hit).toBe(true);
    expect(calls).toBe(2);
  });

  it('serves the stale copy when the origin fails within stale-if-error', async () => {
    let fail = false;
    let calls = 0;
    const a = await start([
      {
        method: 'GET',
        path: '/sie',
        cache: { ttl: 200, staleIfError: 60_000 },
        handler: () => (calls++, fail ? { status: 503, body: { error: 'down' } } : { body: { good: true } }),
      },
    ]);
    await request(a.url).get('/sie').expect(200, { good: true });
    await new Promise((r) => setTimeout(r, 300));
    fail = true;
    const r = await request(a.url).get('/sie').expect(200, { good: true });
    expect(cacheStatus(r.headers)).toMatchObject({ hit: false, fwd: 'stale', fwdStatus: 503 });
    expect(calls).toBe(2);
  });

  it('purges by tag from another instance, with tags from the route, the handler and Cache-Tag', async () => {
    let version = 1;
    const routes: RouteSpec[] = [
      { method: 'GET', path: '/p/:id', cache: { ttl: 60_000, tags: (s: { params: { id: string } }) => [`product:${s.params.id}`] }, handler: ({ params }) => ({ body: { id: params.id, version } }) },
      { method: 'GET', path: '/list', cache: { ttl: 60_000 }, handler: () => ({ tags: ['products'], body: { version } }) },
      { method: 'GET', path: '/hdr', cache: { ttl: 60_000 }, handler: () => ({ headers: { 'cache-tag': 'catalog, products' }, body: { version } }) },
    ];
    const kitB = createRedisKit({ url: await sharedRedisUrl(), prefix: kit.keys.prefix, operationTimeout: 2000, logger: false });
    await kitB.ready();
    try {
      const a = await start(routes);
      for (const path of ['/p/1', '/p/2', '/list', '/hdr']) await request(a.url).get(path).expect(200);
      const hdr = await request(a.url).get('/hdr').expect(200);
      expect(hdr.headers['cache-tag']).toBeUndefined();
      version = 2;
      await RedisCache.of(kitB).purgeTags(['product:1', 'products']);
      expect((await request(a.url).get('/p/1')).body.version).toBe(2);
      expect((await request(a.url).get('/p/2')).body.version).toBe(1);
      expect((await request(a.url).get('/list')).body.version).toBe(2);
      expect((await request(a.url).get('/hdr')).body.version).toBe(2);
    } finally {
      await kitB.close();
    }
  });

  it('turns entries stale on a soft purge and refreshes them in the background', async () => {
    let version = 1;
    const a = await start([
      { method: 'GET', path: '/soft', cache: { ttl: 60_000, staleWhileRevalidate: 60_000, tags: ['soft'] }, handler: () => ({ body: { version } }) },
    ]);
    await request(a.url).get('/soft').expect(200, { version: 1 });
    version = 2;
    await RedisCache.of(kit).purgeTags('soft', { soft: true });
    const stale = await request(a.url).get('/soft').expect(200, { version: 1 });
    expect(cacheStatus(stale.headers).hit).toBe(true);
    await RedisCache.of(kit).idle();
    await request(a.url).get('/soft').expect(200, { version: 2 });
  });
  it('bypasses Range requests, says X-Cache when asked, and emits an event for each step', async () => {
    const seen: string[] = [];
    const off = kit.events.onAny((name, payload) => {
      if (name.startsWith('cache:')) seen.push(`${name}${'reason' in (payload as object) ? `:${(payload as { reason: string }).reason}` : ''}`);
    });
    try {
      const a = await start([
        { method: 'GET', path: '/ev', cache: { ttl: 60_000, tags: ['ev'] }, handler: () => ({ body: 'x' }) },
        { method: 'GET', path: '/xc', cache: { ttl: 60_000, statusHeader: 'x-cache' }, handler: () => ({ body: 'y' }) },
      ]);
      await request(a.url).get('/ev').expect(200);
      await request(a.url).get('/ev').expect(200);
      const ranged = await request(a.url).get('/ev').set('range', 'bytes=0-0');
      expect(cacheStatus(ranged.headers)).toMatchObject({ fwd: 'bypass', detail: 'range' });
      await RedisCache.of(kit).purgeTags('ev');
      await pastThisMillisecond(kit); // the refill of /xc below must be stored (see pastThisMillisecond)
      expect((await request(a.url).get('/xc')).headers['x-cache']).toBe('MISS');
      expect((await request(a.url).get('/xc')).headers['x-cache']).toBe('HIT');
      expect(seen).toEqual(
        expect.arrayContaining(['cache:miss:uri-miss', 'cache:store', 'cache:hit', 'cache:bypass:range', 'cache:purge']),
      );
    } finally {
      off();
    }
  });
  it('serves the stale copy when the origin is slower than staleIfErrorTimeout, and survives its late answer', async () => {
    let gate: ReturnType<typeof latch> | undefined;
    let version = 1;
    const a = await start([
      {
        method: 'GET',
        path: '/slow-sie',
        cache: { ttl: 200, staleIfError: 60_000, staleIfErrorTimeout: 100 },
        handler: async () => {
          const g = gate;
          if (g) {
            g.enter();
            await g.wait;
          }
          return { headers: { 'x-late': 'yes' }, body: { version } };
        },
      },
    ]);
    await request(a.url).get('/slow-sie').expect(200, { version: 1 });
    await new Promise((r) => setTimeout(r, 300));
    gate = latch();
    version = 2;
    const r = await request(a.url).get('/slow-sie').expect(200, { version: 1 });
    expect(cacheStatus(r.headers)).toMatchObject({ fwd: 'stale', fwdStatus: 504 });
    expect(r.headers['x-late']).toBe('yes');
    const held = gate;
    gate = undefined;
    held.open();
    await waitFor('the origin to answer fresh again', async () => (await request(a.url).get('/slow-sie')).body.version === 2, 10_000, 50);
  });
});
