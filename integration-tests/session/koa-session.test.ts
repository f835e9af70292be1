import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createSessionApp, type SessionApp, type SessionAppOptions } from './apps';
import { cookieHeader, sessionKey, setsCookie } from './helpers';

let url: string;
let admin: Redis;
const kits: RedisKit[] = [];
const apps: SessionApp[] = [];

beforeAll(async () => {
  url = await sharedRedisUrl();
  admin = new Redis(url);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});
afterAll(async () => {
  await Promise.all(kits.map((k) => k.close()));
  admin.disconnect();
});

async function app(options: SessionAppOptions = {}): Promise<SessionApp> {
  const kit = createRedisKit({ url, prefix: uniquePrefix('ks'), operationTimeout: 2000, logger: false });
  kits.push(kit);
  await kit.ready();
  const a = await createSessionApp('koa', kit, options);
  apps.push(a);
  return a;
}

async function loginAndSid(a: SessionApp, user: string) {
  const res = await request(a.url).post(`/login?user=${user}`).expect(200);
  const cookie = cookieHeader(res);
  const sid = (await request(a.url).get('/sid').set('Cookie', cookie).expect(200)).body.sid as string;
  return { cookie, sid };
}

describe('koa-session flows', () => {
  it('stores the full payload, _expire and _maxAge included', async () => {
    const a = await app({ maxAge: 3_600_000 });
    const { sid } = await loginAndSid(a, 'alice');
    const stored = await a.engine.get(sid);
    expect(stored).toMatchObject({ userId: 'alice', views: 0, _maxAge: 3_600_000 });
    expect(typeof stored!['_expire']).toBe('number');
  });

  it("treats maxAge: 'session' as the store's ttl (koa-redis failed here)", async () => {
    const a = await app({ maxAge: 'session', session: { ttl: 7_200_000 } });
    const res = await request(a.url).post('/login?user=bob').expect(200);
    expect(setsCookie(res, 'koa.sess')).toBe(true);
    expect((res.headers['set-cookie'] as unknown as string[]).join(';')).not.toMatch(/expires=/i);
    const cookie = cookieHeader(res);
    const sid = (await request(a.url).get('/sid').set('Cookie', cookie).expect(200)).body.sid as string;
    const pttl = await admin.pttl(sessionKey(a.engine, sid));
    expect(pttl).toBeLessThanOrEqual(7_200_000);
    expect(pttl).toBeGreaterThan(7_200_000 * 0.99);
    expect((await request(a.url).get('/me').set('Cookie', cookie).expect(200)).body).toEqual({ user: 'bob', views: 0 });
  });

  it('rolling: every request writes the session again and re-sends the cookie', async () => {
    const a = await app({ maxAge: 3_600_000, koaSession: { rolling: true } });
    const { cookie, sid } = await loginAndSid(a, 'carol');
    const first = (await a.engine.get(sid))!['_expire'] as number;
    const t0 = Date.now();
    await waitFor('the clock to move', async () => Date.now() > t0 + 20, 5000, 5);
    const res = await request(a.url).get('/me').set('Cookie', cookie).expect(200, { user: 'carol', views: 0 });
    expect(setsCookie(res, 'koa.sess')).toBe(true);
    expect((await a.engine.get(sid))!['_expire']).toBeGreaterThan(first);
    expect(await admin.pttl(sessionKey(a.engine, sid))).toBeGreaterThan(3_600_000 * 0.99);
  });

  it('renew: the session is written again when it nears its end, and lives on', async () => {
    const a = await app({ maxAge: 1500, koaSession: { renew: true } });
    const { cookie, sid } = await loginAndSid(a, 'dave');
    const first = (await a.engine.get(sid))!['_expire'] as number;
    let renewed = false;
    await waitFor('koa-session to renew the session', async () => {
      const res = await request(a.url).get('/me').set('Cookie', cookie).expect(200, { user: 'dave', views: 0 });
      renewed = setsCookie(res, 'koa.sess');
      return renewed;
    });
    const stored = await a.engine.get(sid);
    expect(stored!['_expire']).toBeGreaterThan(first);
    // the store keeps it for koa-session's maxAge + 10 s
    expect(await admin.pttl(sessionKey(a.engine, sid))).toBeGreaterThan(1500);
  });
});
