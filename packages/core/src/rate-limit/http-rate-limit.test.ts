import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import { createRedisKit, type RedisKit } from '../redis/redis-kit';
import { prepareHttpRateLimit, type HttpRequestInfo } from './http-rate-limit';

let kit: RedisKit;
const warnings: string[] = [];
beforeAll(async () => {
  kit = createRedisKit({
    url: await sharedRedisUrl(),
    prefix: uniquePrefix('rlh'),
    logger: { warn: (m) => warnings.push(m), error: () => {} },
  });
  await kit.ready();
});
afterAll(() => kit.close());

function info(route?: string): HttpRequestInfo<unknown> {
  const req = new IncomingMessage(new Socket());
  return { req, ip: '192.0.2.1', method: 'get', route, forwardedFor: false, trustProxy: 'none', res: new ServerResponse(req) };
}

describe('the HTTP layer', () => {
  it('names a limiter after its route template, or "app" when it runs app-wide', () => {
    const http = prepareHttpRateLimit({ limit: 1, window: 1000 })(kit);
    expect(http.nameFor({ method: 'get', route: '/users/:id' })).toBe('GET /users/:id');
    expect(http.nameFor({ method: 'head', route: '/users/:id' })).toBe('GET /users/:id');
    expect(http.nameFor({ method: 'get', route: undefined })).toBe('app');
    expect(prepareHttpRateLimit({ limit: 1, window: 1000, perRoute: false })(kit).nameFor({ method: 'get', route: '/x' })).toBe('app');
    expect(prepareHttpRateLimit({ name: 'search', limit: 1, window: 1000 })(kit).nameFor({ method: 'get', route: '/x' })).toBe('search');
  });

  it('warns once when two limiters would count in one bucket', async () => {
    const a = prepareHttpRateLimit({ limit: 5, window: 60_000 })(kit);
    const b = prepareHttpRateLimit({ limit: 50, window: 60_000 })(kit);
    const c = prepareHttpRateLimit({ name: 'other', limit: 50, window: 60_000 })(kit);
    await a.handle(info('/shared'));
    await c.handle(info('/shared'));
    expect(warnings.filter((w) => w.includes('"rateLimitName"'))).toHaveLength(0);
    await b.handle(info('/shared'));
    await b.handle(info('/shared'));
    expect(warnings.filter((w) => w.includes('"rateLimitName"'))).toHaveLength(1);
  });
});
