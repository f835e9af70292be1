import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createRedisKit, RedisCache, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import request from 'supertest';
import { ADAPTERS } from '../harness';
import { cacheStatus, latch, startApp, type RouteSpec, type TestApp } from './apps';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const binary = (r: request.Request) =>
  r.buffer(true).parse((res, cb) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('end', () => cb(null, Buffer.concat(parts)));
  });

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
});
