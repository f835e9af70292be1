import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, isRedisKitError, type RedisKit } from '@rediskit/core';
import { RedisSessionStore } from '@rediskit/express';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import express from 'express';
import session, { type SessionData } from 'express-session';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createSessionApp, type SessionApp, type SessionAppOptions } from './apps';
import { cookieHeader, record, sessionKey, setsCookie } from './helpers';

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

async function kitFor(label: string): Promise<RedisKit> {
  const kit = createRedisKit({ url, prefix: uniquePrefix(label), operationTimeout: 2000, logger: false });
  kits.push(kit);
  await kit.ready();
  return kit;
}

async function app(options: SessionAppOptions = {}): Promise<SessionApp> {
  const a = await createSessionApp('express', await kitFor('xs'), options);
  apps.push(a);
  return a;
}

/** Counts the store calls express-session makes, still calling through to Redis. */
function countCalls(store: RedisSessionStore) {
  const calls = { set: 0, touch: 0 };
  const set = store.set.bind(store);
  const touch = store.touch.bind(store);
  store.set = (...args: Parameters<typeof set>) => {
    calls.set++;
    return set(...args);
  };
  store.touch = (...args: Parameters<typeof touch>) => {
    calls.touch++;
    return touch(...args);
  };
  return calls;
}

async function loginAndSid(a: SessionApp, user: string) {
  const res = await request(a.url).post(`/login?user=${user}`).expect(200);
  const cookie = cookieHeader(res);
  const sid = (await request(a.url).get('/sid').set('Cookie', cookie).expect(200)).body.sid as string;
  return { cookie, sid };
}

async function storedExpires(a: SessionApp, sid: string): Promise<number> {
  const s = (await a.engine.get(sid)) as unknown as SessionData;
  expect(s.cookie.expires).toBeInstanceOf(Date);
  return (s.cookie.expires as Date).getTime();
}

describe('express-session flows', () => {
  it('resave: false + saveUninitialized: false: unmodified requests touch (no rewrite, no cookie), changes save', async () => {
    const a = await app({ maxAge: 3_600_000, session: { touchAfter: 0 } }); // every touch writes
    const calls = countCalls(a.store as RedisSessionStore);
    const anonymous = await request(a.url).get('/me').expect(200);
    expect(setsCookie(anonymous, 'connect.sid')).toBe(false);
    expect(calls).toEqual({ set: 0, touch: 0 });

    const { cookie, sid } = await loginAndSid(a, 'alice');
    expect(calls.set).toBe(1);
    const before = await storedExpires(a, sid);
    const t0 = Date.now();
    await waitFor('the clock to move', async () => Date.now() > t0 + 20, 5000, 5);

    const touched = await request(a.url).get('/me').set('Cookie', cookie).expect(200);
    expect(setsCookie(touched, 'connect.sid')).toBe(false); // rolling is off
    expect(calls.set).toBe(1);
    expect(calls.touch).toBeGreaterThanOrEqual(2); // GET /sid and GET /me
    expect(await storedExpires(a, sid)).toBeGreaterThan(before);
    expect(await admin.pttl(sessionKey(a.engine, sid))).toBeGreaterThan(3_600_000 * 0.99);

    await request(a.url).post('/visit').set('Cookie', cookie).expect(200, { views: 1 });
    expect(calls.set).toBe(2);
  });

  it('rolling: true re-sends the cookie on every response and moves the stored expiry with it', async () => {
    const a = await app({ maxAge: 3_600_000, expressSession: { rolling: true }, session: { touchAfter: 0 } });
    const { cookie, sid } = await loginAndSid(a, 'bob');
    const before = await storedExpires(a, sid);
    const t0 = Date.now();
    await waitFor('the clock to move', async () => Date.now() > t0 + 20, 5000, 5);
    const res = await request(a.url).get('/me').set('Cookie', cookie).expect(200, { user: 'bob', views: 0 });
    expect(setsCookie(res, 'connect.sid')).toBe(true);
    const sent = Date.parse(/Expires=([^;]+)/.exec((res.headers['set-cookie'] as unknown as string[])[0]!)![1]!);
    const stored = await storedExpires(a, sid);
    expect(stored).toBeGreaterThan(before);
    // the browser cookie and the stored cookie say the same (to the second the header carries)
    expect(Math.abs(stored - sent)).toBeLessThan(1000);
  });

  it("by default (touchAfter 'auto') an unmodified request skips the touch while the stored expiry is within a tenth of the lifetime", async () => {
    const a = await app({ maxAge: 3_600_000, expressSession: { rolling: true } });
    const calls = countCalls(a.store as RedisSessionStore);
    const { cookie, sid } = await loginAndSid(a, 'dan');
    const before = await storedExpires(a, sid);
    const res = await request(a.url).get('/me').set('Cookie', cookie).expect(200, { user: 'dan', views: 0 });
    expect(calls.touch).toBeGreaterThanOrEqual(1); // express-session asked ...
    expect(await storedExpires(a, sid)).toBe(before); // ... and the store skipped the write
    // the browser's cookie runs ahead of the stored expiry by less than a minute (a tenth of an hour is more)
    const sent = Date.parse(/Expires=([^;]+)/.exec((res.headers['set-cookie'] as unknown as string[])[0]!)![1]!);
    expect(sent - before).toBeLessThan(60_000);
  });

  it('a skipped touch calls back in the same tick, so express-session sends the response in one piece', async () => {
    const kit = await kitFor('xs-sync');
    const store = new RedisSessionStore(kit);
    const web = express();
    web.use(session({ store, secret: 's3cret', resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }));
    web.post('/login', (req, res) => {
      req.session.userId = 'fred';
      res.end('in');
    });
    web.get('/me', (req, res) => res.end(String(req.session.userId))); // no Content-Length of its own
    const server = web.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const cookie = cookieHeader(await request(base).post('/login').expect(200));
      // express-session writes the body before the touch answers unless the answer is synchronous;
      // then the body goes out chunked and the end follows in another write.
      const res = await request(base).get('/me').set('Cookie', cookie).expect(200, 'fred');
      expect(res.headers['transfer-encoding']).toBeUndefined();
      expect(res.headers['content-length']).toBe('4');

      const sid = (await kit.redis.keys(`${kit.keys.prefix}:{sess:*`))[0]!.slice(`${kit.keys.prefix}:{sess:`.length, -1);
      const loaded = (await store.get(sid))!;
      let calledBack = false;
      void store.touch(sid, loaded, () => (calledBack = true));
      expect(calledBack).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('regenerate leaves a tombstone for a loaded session, none for one made in the same request', async () => {
    const kit = await kitFor('xs-regen');
    const store = new RedisSessionStore(kit);
    const web = express();
    web.use(session({ store, secret: 's3cret', resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }));
    const regenerate = (req: express.Request) => new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
    const save = (req: express.Request) => new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
    web.post('/login', async (req, res) => {
      const made = req.sessionID;
      if (req.query['save']) {
        req.session.userId = 'early';
        await save(req); // saved before the regenerate: it must be deleted
      }
      await regenerate(req);
      req.session.userId = 'gus';
      res.json({ made, now: req.sessionID });
    });
    const server = web.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tombstone = (id: string) => admin.exists(kit.keys.entity('sess', id).key('x'));
    const stored = (id: string) => admin.exists(kit.keys.entity('sess', id).key());
    const destroyed = record(kit, 'session:destroyed');
    try {
      // no cookie: the id express-session made is unknown to anyone else
      const first = await request(base).post('/login').expect(200);
      const ids = first.body as { made: string; now: string };
      expect(await tombstone(ids.made)).toBe(0);
      expect(await stored(ids.now)).toBe(1);

      // made and saved in this request: deleted, still no tombstone (its cookie never went out)
      const early = (await request(base).post('/login?save=1').expect(200)).body as { made: string; now: string };
      expect(await stored(early.made)).toBe(0);
      expect(await tombstone(early.made)).toBe(0);
      expect(destroyed.map((e) => e.reason)).toEqual(['destroy']);

      // loaded from the store: a request in flight may still save it, so a tombstone guards it
      const again = (await request(base).post('/login').set('Cookie', cookieHeader(first)).expect(200)).body as { made: string; now: string };
      expect(again.made).toBe(ids.now);
      expect(await stored(ids.now)).toBe(0);
      expect(await tombstone(ids.now)).toBe(1);
      expect(await store.engine.set(ids.now, { userId: 'gus' }, { ttl: 3_600_000 })).toBe('refused');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a browser-session cookie (no maxAge) gets the ttl option, else one day', async () => {
    const a = await app({ maxAge: null, session: { ttl: 7_200_000 } });
    const { sid } = await loginAndSid(a, 'carol');
    const pttl = await admin.pttl(sessionKey(a.engine, sid));
    expect(pttl).toBeLessThanOrEqual(7_200_000);
    expect(pttl).toBeGreaterThan(7_200_000 * 0.99);

    const b = await app({ maxAge: null });
    const other = await loginAndSid(b, 'carol');
    expect(await admin.pttl(sessionKey(b.engine, other.sid))).toBeGreaterThan(86_400_000 * 0.99);
  });
});

describe('the express-session Store contract', () => {
  const cookie = () => ({ originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000), httpOnly: true, path: '/' });
  const cb = <T>(fn: (done: (err: unknown, value?: T) => void) => void) =>
    new Promise<T | undefined>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

  it('answers every method by callback and by promise', async () => {
    const store = new RedisSessionStore(await kitFor('contract'));
    const data = { cookie: cookie(), userId: 'dora' } as unknown as SessionData;
    await cb<void>((done) => store.set('a', data, done));
    await store.set('b', data);
    expect((await cb<SessionData | null>((done) => store.get('a', done)))!.cookie.expires).toBeInstanceOf(Date);
    expect(((await store.get('b')) as unknown as { userId: string }).userId).toBe('dora');
    await cb<void>((done) => store.touch('a', { ...data, cookie: cookie() } as SessionData, done));
    expect(await cb<number>((done) => store.length(done))).toBe(2);
    expect((await cb<string[]>((done) => store.ids(done)))!.sort()).toEqual(['a', 'b']);
    const all = (await cb<SessionData[]>((done) => store.all(done))) as unknown as Array<{ id: string; userId: string }>;
    expect(all.map((s) => [s.id, s.userId]).sort()).toEqual([
      ['a', 'dora'],
      ['b', 'dora'],
    ]);
    await cb<void>((done) => store.destroy('a', done));
    expect(await store.get('a')).toBeNull();
    await cb<void>((done) => store.touch('a', data, done)); // never re-creates
    expect(await store.get('a')).toBeNull();
    await cb<void>((done) => store.clear(done));
    expect(await store.length()).toBe(0);
  });

  it('passes errors to the callback and rejects the promise', async () => {
    const store = new RedisSessionStore(await kitFor('contract-err'));
    const bad = { cookie: cookie(), n: BigInt(1) } as unknown as SessionData;
    await expect(cb<void>((done) => store.set('x', bad, done))).rejects.toMatchObject({ code: 'ERR_REDISKIT_SERIALIZE' });
    await expect(store.set('x', bad)).rejects.toMatchObject({ code: 'ERR_REDISKIT_SERIALIZE' });
  });

  it('load() builds an express-session Session with a Date expiry', async () => {
    const store = new RedisSessionStore(await kitFor('contract-load'));
    await store.set('s1', { cookie: cookie(), userId: 'eve' } as unknown as SessionData);
    const loaded = await new Promise<SessionData & { id: string }>((resolve, reject) =>
      store.load('s1', (err, s) => (err ? reject(err) : resolve(s as SessionData & { id: string }))),
    );
    expect(loaded.id).toBe('s1');
    expect((loaded as unknown as { userId: string }).userId).toBe('eve');
    expect(loaded.cookie.expires).toBeInstanceOf(Date);
    expect(typeof (loaded as unknown as { save: unknown }).save).toBe('function');
  });

  it('validates options at construction and takes a shared engine', async () => {
    const kit = await kitFor('contract-opts');
    const code = (fn: () => unknown) => {
      try {
        fn();
        return 'ok';
      } catch (error) {
        return isRedisKitError(error) ? error.code : String(error);
      }
    };
    expect(code(() => new RedisSessionStore(kit, { ttl: -5 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => new RedisSessionStore(kit, { ttll: 5 } as never))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    const store = new RedisSessionStore(kit, { namespace: 'shared' });
    expect(code(() => new RedisSessionStore(store.engine, {}))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(new RedisSessionStore(store.engine).engine).toBe(store.engine);
  });
});
