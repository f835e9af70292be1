import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { createRedisKit, type RedisKit } from '@rediskit/core';
import { RateLimit, RateLimitGuard, SkipRateLimit, type RateLimitedRequest } from '@rediskit/nestjs';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import { parseList } from 'structured-headers';
import { hit, startApp, type AppSpec, type RunningApp } from './apps';

// What only NestJS has: decorators on controllers and handlers that merge by
// policy name, @SkipRateLimit, module defaults, and guard hooks.

const DAY = 86_400_000;
const opened: Array<RunningApp | RedisKit> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function nest(spec: AppSpec): Promise<string> {
  const kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('rln'), logger: false, operationTimeout: 2000 });
  opened.push(kit);
  await kit.ready();
  const app = await startApp('nestjs', kit, spec);
  opened.push(app);
  return app.url;
}

const policiesOf = (h: { headers: Record<string, string> }) =>
  h.headers.ratelimit === undefined ? [] : parseList(h.headers.ratelimit).map(([n, p]) => [n, (p as Map<string, unknown>).get('r')]);

describe('@RateLimit and @SkipRateLimit', () => {
  it('merge controller and handler policies by name; a handler can skip one or all', async () => {
    const url = await nest({
      nestClassDecorators: [
        RateLimit({
          policies: [
            { name: 'minute', algorithm: 'fixed-window', limit: 5, window: 60_000 },
            { name: 'day', algorithm: 'fixed-window', limit: 100, window: DAY },
          ],
        }),
      ],
      routes: [
        { method: 'GET', path: '/plain' },
        // Replaces the controller's "minute" policy on this handler only.
        { method: 'GET', path: '/strict', limit: { policies: [{ name: 'minute', algorithm: 'fixed-window', limit: 1, window: 60_000 }] } },
        { method: 'GET', path: '/no-minute', nestDecorators: [SkipRateLimit('minute')] },
        { method: 'GET', path: '/free', nestDecorators: [SkipRateLimit()] },
      ],
    });
    expect(policiesOf(await hit(url, '/plain'))).toEqual([
      ['minute', 4],
      ['day', 99],
    ]);
    expect(policiesOf(await hit(url, '/strict'))).toEqual([
      ['minute', 0],
      ['day', 99],
    ]);
    expect((await hit(url, '/strict')).status).toBe(429);
    expect(policiesOf(await hit(url, '/no-minute'))).toEqual([['day', 99]]);
    const free = await hit(url, '/free');
    expect(free.status).toBe(200);
    expect(free.headers.ratelimit).toBeUndefined();
  });

  it('takes module defaults: options for every @RateLimit, policies when a route names none', async () => {
    const url = await nest({
      nestDefaults: { algorithm: 'fixed-window', limit: 2, window: DAY, headers: 'draft-6' },
      routes: [
        { method: 'GET', path: '/defaults', limit: {} },
        { method: 'GET', path: '/own', limit: { policies: [{ name: 'own', algorithm: 'fixed-window', limit: 1, window: DAY }] } },
        { method: 'GET', path: '/unlimited' },
      ],
    });
    const d = [await hit(url, '/defaults'), await hit(url, '/defaults'), await hit(url, '/defaults')];
    expect(d.map((h) => h.status)).toEqual([200, 200, 429]);
    expect(d[0]!.headers['ratelimit-remaining']).toBe('1');
    // A route's own policies join the defaults' (merged by name).
    const own = await hit(url, '/own');
    expect([own.headers['ratelimit-limit'], own.headers['ratelimit-remaining']]).toEqual(['1', '0']);
    expect((await hit(url, '/own')).status).toBe(429);
    // Without @RateLimit and without a global guard, a route is not limited.
    for (let i = 0; i < 4; i++) expect((await hit(url, '/unlimited')).status).toBe(200);
  });

  it('as a global guard, limits every route with the defaults, per route, unless skipped', async () => {
    @Injectable()
    class ByApiKey extends RateLimitGuard {
      protected override getTracker(req: RateLimitedRequest): string | undefined {
        const key = req.headers['x-api-key'];
        return typeof key === 'string' ? key : undefined;
      }
    }
    const url = await nest({
      nestGuard: ByApiKey,
      nestDefaults: { algorithm: 'gcra', limit: 2, window: DAY },
      routes: [
        { method: 'GET', path: '/one' },
        { method: 'GET', path: '/two' },
        { method: 'GET', path: '/health', nestDecorators: [SkipRateLimit()] },
      ],
    });
    const as = (key: string, path: string) => hit(url, path, { headers: { 'x-api-key': key } });
    expect([(await as('k1', '/one')).status, (await as('k1', '/one')).status, (await as('k1', '/one')).status]).toEqual([200, 200, 429]);
    // Another key, another bucket; another route, another bucket.
    expect((await as('k2', '/one')).status).toBe(200);
    expect((await as('k1', '/two')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await as('k1', '/health')).status).toBe(200);
  });

  it('decides once when the guard is both global and on the handler', async () => {
    const url = await nest({
      nestGuard: RateLimitGuard,
      nestDefaults: { algorithm: 'fixed-window', limit: 3, window: DAY },
      routes: [{ method: 'GET', path: '/twice', limit: {} }],
    });
    expect(policiesOf(await hit(url, '/twice'))).toEqual([['default', 2]]);
    expect(policiesOf(await hit(url, '/twice'))).toEqual([['default', 1]]);
  });

  it('rejects bad options when the decorator is applied, with a coded error', () => {
    let code: string | undefined;
    try {
      RateLimit({ policies: [{ limit: 0, window: 1000 }] });
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    expect(code).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(() => RateLimit({ limt: 3 } as never)).toThrow(/unknown option "limt".*did you mean "limit"/);
  });
});
