import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { httpKeyName, RedisCache, type RedisKit } from '@rediskit/core';
import { uniquePrefix } from '@rediskit/testing';
import request from 'supertest';
import { ADAPTERS } from '../harness';
import { cacheStatus, latch, startApp, type RouteSpec, type TestApp } from './apps';
import { kitOn, pastThisMillisecond, TOPOLOGIES } from './topology';

// A URL's purge state lives in its head (`r:<pk>`): the entry itself when
// the responses do not vary, else the record of the vary list and of the
// generation every variant is bound to. A purge of the URL (purgeUrl, a 2xx
// mutation) must reach every variant, never lose to a fill under way, and
// never be undone by losing the head: properties 1 and 3 for URL purges, on
// standalone Redis and on the Cluster.
describe.each(TOPOLOGIES)('on %s', (topology) => {
  describe.each(ADAPTERS)('through %s', (adapter) => {
    let kit: RedisKit;
    let kitB: RedisKit;
    let app: TestApp;
    const db = { version: 1, calls: 0 };
    const gate: { current?: ReturnType<typeof latch> } = {};

    beforeAll(async () => {
      const prefix = uniquePrefix(`url-purge-${adapter}`);
      kit = await kitOn(topology, prefix);
      kitB = await kitOn(topology, prefix);
      const handler: RouteSpec['handler'] = async ({ params, headers }) => {
        db.calls++;
        const version = db.version;
        const g = gate.current;
        if (g) {
          g.enter();
          await g.wait;
        }
        const vary: Record<string, string> = params.kind === 'lang' ? { vary: 'accept-language' } : {};
        return { headers: vary, body: { id: params.id, lang: headers['accept-language'] ?? null, version } };
      };
      app = await startApp(adapter, kit, [
        { method: 'GET', path: '/:kind/:id', cache: { ttl: 60_000, staleWhileRevalidate: 60_000 }, handler },
      ]);
    });
    afterAll(async () => {
      await app.close();
      await RedisCache.of(kit).idle();
      await kit.close();
      await kitB.close();
    });

    const get = (path: string, lang?: string) => {
      const r = request(app.url).get(path);
      return (lang ? r.set('accept-language', lang) : r).expect(200);
    };
    // Purges through the other instance, then waits for the Redis clock to
    // leave the purge's millisecond (see pastThisMillisecond).
    const purgeUrl = async (path: string, options?: { soft?: boolean }) => {
      await RedisCache.of(kitB).purgeUrl(path, options);
      await pastThisMillisecond(kit);
    };
    const headKey = (path: string) => {
      const store = RedisCache.of(kit).store;
      return store.headKey(store.target('h', httpKeyName(path)));
    };

    it('a hard purge of a URL from another instance makes every variant a miss, and they refill', async () => {
      db.version = 1;
      for (const lang of ['en', 'fr', 'en', 'fr']) await get('/lang/1', lang);
      expect(cacheStatus((await get('/lang/1', 'fr')).headers).hit).toBe(true);
      db.version = 2;
      await purgeUrl('/lang/1');
      for (const lang of ['en', 'fr']) {
        const after = await get('/lang/1', lang);
        expect([lang, cacheStatus(after.headers).hit, after.body.version]).toEqual([lang, false, 2]);
        const hit = await get('/lang/1', lang);
        expect([lang, cacheStatus(hit.headers).hit, hit.body.version, hit.body.lang]).toEqual([lang, true, 2, lang]);
      }
    });

    it('a soft purge of a URL serves each variant stale once while one refresh runs', async () => {
      db.version = 1;
      for (const lang of ['en', 'fr']) await get('/lang/2', lang);
      const calls = db.calls;
      db.version = 2;
      await purgeUrl('/lang/2', { soft: true });
      for (const lang of ['en', 'fr']) {
        const stale = await get('/lang/2', lang);
        expect([lang, cacheStatus(stale.headers).hit, stale.body.version]).toEqual([lang, true, 1]);
      }
      await RedisCache.of(kit).idle();
      expect(db.calls).toBe(calls + 2);
      for (const lang of ['en', 'fr']) {
        const fresh = await get('/lang/2', lang);
        expect([lang, cacheStatus(fresh.headers).hit, fresh.body.version]).toEqual([lang, true, 2]);
      }
      expect(db.calls).toBe(calls + 2);
    });

    it.each([
      ['a URL whose responses vary', '/lang/3', 'de'],
      ['a URL whose responses do not vary', '/plain/3', undefined],
    ])('a purge of %s that lands while it is being filled is never served as fresh', async (_, path, lang) => {
      db.version = 1;
      if (lang) await get(path, 'en'); // the URL already has a head record and a variant
      gate.current = latch();
      const inflight = get(path, lang).then((r) => r);
      await gate.current.entered;
      db.version = 2;
      await purgeUrl(path);
      gate.current.open();
      gate.current = undefined;
      expect((await inflight).body.version).toBe(1);
      const next = await get(path, lang);
      expect([cacheStatus(next.headers).hit, next.body.version]).toEqual([false, 2]);
      const hit = await get(path, lang);
      expect([cacheStatus(hit.headers).hit, hit.body.version]).toEqual([true, 2]);
    });

    it('losing the head never brings purged or orphaned variants back', async () => {
      db.version = 1;
      for (const lang of ['en', 'fr', 'en']) await get('/lang/4', lang);
      db.version = 2;
      await purgeUrl('/lang/4');
      expect(await kit.exec((r) => r.del(headKey('/lang/4')))).toBe(1);
      const purged = await get('/lang/4', 'en');
      expect([cacheStatus(purged.headers).hit, purged.body.version]).toEqual([false, 2]);

      // Without a purge: the variants' generation is gone with the head, so they are misses.
      for (const lang of ['en', 'fr', 'en']) await get('/lang/5', lang);
      const calls = db.calls;
      expect(await kit.exec((r) => r.del(headKey('/lang/5')))).toBe(1);
      const orphan = await get('/lang/5', 'fr');
      expect(cacheStatus(orphan.headers).hit).toBe(false);
      expect(db.calls).toBe(calls + 1);
      // The fill wrote a new head with a new generation: the other variant is a miss too, once.
      expect(cacheStatus((await get('/lang/5', 'en')).headers).hit).toBe(false);
      expect(cacheStatus((await get('/lang/5', 'en')).headers).hit).toBe(true);
    });
  });
});
