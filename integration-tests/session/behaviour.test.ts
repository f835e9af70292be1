import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createRedisKit, type RedisKit } from '@rediskit/core';
import { sharedClusterNodes, sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import request from 'supertest';
import { ADAPTERS } from '../harness';
import { createSessionApp, type SessionApp, type SessionAppOptions } from './apps';
import { cookieHeader, record, sessionKey, setsCookie } from './helpers';

// One behaviour suite, the same routes on express-session, koa-session and a
// Nest app (express-session with the RedisSessionService engine), on a
// standalone Redis and on the local Cluster.
const TOPOLOGIES = process.env.REDISKIT_TEST_NO_CLUSTER === '1' ? ['standalone'] : ['standalone', 'cluster'];
const CASES = ADAPTERS.flatMap((adapter) => TOPOLOGIES.map((topology) => [adapter, topology] as const));

describe.each(CASES)('sessions through %s on %s Redis', (adapter, topology) => {
  const kits: RedisKit[] = [];
  const apps: SessionApp[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    await Promise.all(kits.map((k) => k.close()));
  });

  async function app(options: SessionAppOptions = {}): Promise<SessionApp> {
    const connection =
      topology === 'cluster' ? { cluster: { nodes: await sharedClusterNodes() } } : { url: await sharedRedisUrl() };
    const kit = createRedisKit({ ...connection, prefix: uniquePrefix(`s-${adapter}`), operationTimeout: 3000, logger: false });
    kits.push(kit);
    await kit.ready();
    const a = await createSessionApp(adapter, kit, options);
    apps.push(a);
    return a;
  }

  async function login(a: SessionApp, user: string) {
    const res = await request(a.url).post(`/login?user=${user}`).expect(200);
    const cookie = cookieHeader(res);
    expect(cookie).toContain(`${a.cookieName}=`);
    const sid = (await request(a.url).get('/sid').set('Cookie', cookie).expect(200)).body.sid as string;
    return { cookie, sid };
  }

  const me = async (a: SessionApp, cookie: string) => (await request(a.url).get('/me').set('Cookie', cookie).expect(200)).body;

  it('stores nothing and sets no cookie for an anonymous visit', async () => {
    const a = await app();
    const res = await request(a.url).get('/me').expect(200, { user: null, views: null });
    expect(setsCookie(res, a.cookieName)).toBe(false);
    expect(await a.engine.length()).toBe(0);
  });

  it('logs in with a ttl from the cookie maxAge (PTTL within 1%) and reads the session back', async () => {
    const a = await app({ maxAge: 3_600_000 });
    const { cookie, sid } = await login(a, 'alice');
    expect(await me(a, cookie)).toEqual({ user: 'alice', views: 0 });
    const pttl = await a.engine.kit.exec((r) => r.pttl(sessionKey(a.engine, sid)));
    // koa-session asks for maxAge + 10 s, still within 1% of an hour
    expect(Math.abs(pttl - 3_600_000)).toBeLessThan(36_000);
    await request(a.url).post('/visit').set('Cookie', cookie).expect(200, { views: 1 });
    expect(await me(a, cookie)).toEqual({ user: 'alice', views: 1 });
  });

  it('regenerate: the old id is gone, the new id holds the data, the cookie changes', async () => {
    const a = await app();
    const { cookie, sid } = await login(a, 'bob');
    await request(a.url).post('/visit').set('Cookie', cookie).expect(200);
    const res = await request(a.url).post('/regenerate').set('Cookie', cookie).expect(200);
    const next = cookieHeader(res);
    expect(next).toContain(`${a.cookieName}=`);
    expect(next).not.toBe(cookie);
    const newSid = (await request(a.url).get('/sid').set('Cookie', next).expect(200)).body.sid as string;
    expect(newSid).not.toBe(sid);
    expect(await a.engine.get(sid)).toBeNull();
    expect(await me(a, next)).toEqual({ user: 'bob', views: 1 });
    expect(await me(a, cookie)).toEqual({ user: null, views: null });
  });

  it('logout destroys the session: the old cookie is anonymous', async () => {
    const a = await app();
    const destroyed = record(a.engine.kit, 'session:destroyed');
    const { cookie, sid } = await login(a, 'carol');
    await request(a.url).post('/logout').set('Cookie', cookie).expect(200);
    expect(await a.engine.kit.exec((r) => r.exists(sessionKey(a.engine, sid)))).toBe(0);
    expect(await me(a, cookie)).toEqual({ user: null, views: null });
    expect(destroyed.map((e) => e.reason)).toContain('destroy');
  });

  it('logout race: a slow request that finishes after the logout leaves the session destroyed', async () => {
    const a = await app();
    const refused = record(a.engine.kit, 'session:save-refused');
    const { cookie, sid } = await login(a, 'dave');
    const slowLatch = a.armSlow();
    // the slow request loads the session, changes it, and waits in its handler
    const slow = request(a.url).post('/slow').set('Cookie', cookie).then((r) => r);
    await slowLatch.entered;
    await request(a.url).post('/logout').set('Cookie', cookie).expect(200);
    expect(await a.engine.get(sid)).toBeNull();
    slowLatch.release();
    const slowRes = await slow;
    expect(slowRes.status).toBe(200);
    expect(slowRes.body).toEqual({ views: 1 });
    // its save was refused: still logged out, nothing in Redis
    expect(refused).toEqual([{ handle: a.engine.handleOf(sid) }]);
    expect(await a.engine.kit.exec((r) => r.exists(sessionKey(a.engine, sid)))).toBe(0);
    expect(await me(a, cookie)).toEqual({ user: null, views: null });
    expect(await a.engine.countSessions('dave')).toBe(0);
  });

  it('log out everywhere: other devices of the user become anonymous, the current one and other users stay', async () => {
    const a = await app();
    const phone = await login(a, 'erin');
    const laptop = await login(a, 'erin');
    const tablet = await login(a, 'erin');
    const other = await login(a, 'frank');

    const listed = (await request(a.url).get('/sessions').set('Cookie', phone.cookie).expect(200)).body.sessions as Array<{
      handle: string;
      current: boolean;
    }>;
    expect(listed).toHaveLength(3);
    expect(listed.filter((s) => s.current)).toEqual([{ handle: a.engine.handleOf(phone.sid), current: true }]);
    expect(JSON.stringify(listed)).not.toContain(laptop.sid);

    await request(a.url).post('/logout-everywhere').set('Cookie', phone.cookie).expect(200, { revoked: 2 });
    expect(await me(a, laptop.cookie)).toEqual({ user: null, views: null });
    expect(await me(a, tablet.cookie)).toEqual({ user: null, views: null });
    expect(await me(a, phone.cookie)).toEqual({ user: 'erin', views: 0 });
    expect(await me(a, other.cookie)).toEqual({ user: 'frank', views: 0 });
    expect(await a.engine.countSessions('erin')).toBe(1);
    expect(await a.engine.countSessions('frank')).toBe(1);
  });

  it('absolute lifetime ends a session that stays active', async () => {
    const a = await app({ session: { absoluteLifetime: 600 } });
    const { cookie } = await login(a, 'gina');
    let requests = 0;
    await waitFor('the absolute lifetime to end the session', async () => {
      requests++;
      await request(a.url).post('/visit').set('Cookie', cookie);
      return (await me(a, cookie)).user === null;
    });
    expect(requests).toBeGreaterThan(1);
    expect(await a.engine.countSessions('gina')).toBe(0);
  });

  it('a tampered encrypted session reads as anonymous, not as an error page', async () => {
    const a = await app({ session: { encryption: { keys: [randomBytes(32)] } } });
    const rejected = record(a.engine.kit, 'session:rejected');
    const { cookie, sid } = await login(a, 'hugo');
    expect(await me(a, cookie)).toEqual({ user: 'hugo', views: 0 });
    const key = sessionKey(a.engine, sid);
    const raw = (await a.engine.kit.exec((r) => r.getBuffer(key)))!;
    expect(raw.includes(Buffer.from('"hugo"'))).toBe(false);
    raw[raw.length - 1] ^= 0xff; // the sealed data ends the value
    await a.engine.kit.exec((r) => r.set(key, raw, 'KEEPTTL'));
    expect(await me(a, cookie)).toEqual({ user: null, views: null });
    expect(rejected.map((r) => r.reason)).toContain('tampered');
  });
});
