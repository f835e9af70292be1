import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisCache, type RedisKit } from '@rediskit/core';
import { uniquePrefix } from '@rediskit/testing';
import request from 'supertest';
import { ADAPTERS } from '../harness';
import { cacheStatus, latch, startApp, type RouteSpec } from './apps';
import { kitOn, loseTagRecords, pastThisMillisecond, TOPOLOGIES } from './topology';

// Correctness property 1 (and 4: on the Cluster too): the response a fill
// brings back after a purge landed during it is never served as fresh.
describe.each(TOPOLOGIES)('on %s', (topology) => {
  describe.each(ADAPTERS)('through %s', (adapter) => {
    let kit: RedisKit;
    let kitB: RedisKit;
    beforeAll(async () => {
      const prefix = uniquePrefix(`race-${adapter}`);
      kit = await kitOn(topology, prefix);
      kitB = await kitOn(topology, prefix);
    });
    afterAll(async () => {
      await RedisCache.of(kit).idle();
      await kit.close();
      await kitB.close();
    });

    function routes(db: { version: number; calls: number }, gate: { current?: ReturnType<typeof latch> }): RouteSpec[] {
      return [
        {
          method: 'GET',
          path: '/products/:id',
          cache: { ttl: 60_000, tags: (s: { params: { id: string } }) => [`product:${s.params.id}`, 'products'] },
          handler: async ({ params }) => {
            db.calls++;
            // Read the data first, like a query, then take time to render it.
            const version = db.version;
            const g = gate.current;
            if (g) {
              g.enter();
              await g.wait;
            }
            return { body: { id: params.id, version } };
          },
        },
      ];
    }

    it('a purge that lands while a miss is fetching makes the next GET a miss with the new data', async () => {
      const db = { version: 1, calls: 0 };
      const gate: { current?: ReturnType<typeof latch> } = { current: latch() };
      const app = await startApp(adapter, kit, routes(db, gate));
      try {
        const inflight = request(app.url).get('/products/1').then((r) => r);
        await gate.current!.entered;
        db.version = 2;
        await RedisCache.of(kitB).purgeTags(['product:1']);
        await pastThisMillisecond(kit);
        gate.current!.open();
        gate.current = undefined;
        expect((await inflight).body.version).toBe(1);
        const next = await request(app.url).get('/products/1').expect(200);
        expect(cacheStatus(next.headers).hit).toBe(false);
        expect(next.body.version).toBe(2);
        const hit = await request(app.url).get('/products/1').expect(200);
        expect(cacheStatus(hit.headers).hit).toBe(true);
        expect(hit.body.version).toBe(2);
      } finally {
        await app.close();
      }
    });

    it('also when the tag records are lost between the purge and the end of the fill', async () => {
      const db = { version: 1, calls: 0 };
      const gate: { current?: ReturnType<typeof latch> } = { current: latch() };
      const app = await startApp(adapter, kit, routes(db, gate));
      try {
        const inflight = request(app.url).get('/products/2').then((r) => r);
        await gate.current!.entered;
        db.version = 2;
        await RedisCache.of(kitB).purgeTags(['products']);
        expect(await loseTagRecords(kit, 'products')).toBeGreaterThan(0);
        gate.current!.open();
        gate.current = undefined;
        expect((await inflight).body.version).toBe(1);
        const next = await request(app.url).get('/products/2').expect(200);
        expect(next.body.version).toBe(2);
      } finally {
        await app.close();
      }
    });

    it('a purge from another instance is a miss on this one at once', async () => {
      const db = { version: 1, calls: 0 };
      const app = await startApp(adapter, kit, routes(db, {}));
      try {
        await request(app.url).get('/products/3').expect(200);
        expect(cacheStatus((await request(app.url).get('/products/3')).headers).hit).toBe(true);
        db.version = 2;
        await RedisCache.of(kitB).purgeTags('products');
        const after = await request(app.url).get('/products/3').expect(200);
        expect(after.body.version).toBe(2);
        expect(db.calls).toBe(2);
      } finally {
        await app.close();
      }
    });
  });
});
