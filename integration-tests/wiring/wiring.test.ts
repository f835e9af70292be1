import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Req, type INestApplication } from '@nestjs/common';
import Router from '@koa/router';
import { createRedisKit, type RedisKit } from '@rediskit/core';
import * as rkExpress from '@rediskit/express';
import * as rkKoa from '@rediskit/koa';
import { InjectRedisKit, REDISKIT, RedisKitModule } from '@rediskit/nestjs';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import { createNestApp, makeController } from '../harness';

// The smallest useful wiring per adapter: an app gets a context and a handler
// uses it to talk to Redis.
describe('adapters attach a context to an app', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('wiring') });
    await kit.ready();
  });
  afterAll(() => kit.close());

  it('express: attachRedisKit + getRedisKit', async () => {
    const app = express();
    rkExpress.attachRedisKit(app, kit);
    app.get('/visits', async (req, res) => {
      const k = rkExpress.getRedisKit(req);
      res.json({ visits: await k.exec((r) => r.incr(k.keys.key('express-visits'))) });
    });
    await request(app).get('/visits').expect(200, { visits: 1 });
    await request(app).get('/visits').expect(200, { visits: 2 });

    const bare = express();
    bare.get('/', (req, res) => {
      try {
        rkExpress.getRedisKit(req);
        res.send('found');
      } catch (error) {
        res.status(500).send((error as { code: string }).code);
      }
    });
    await request(bare).get('/').expect(500, 'ERR_REDISKIT_NO_CONNECTION');
  });

  it('koa: attachRedisKit + ctx.rediskit', async () => {
    const app = new Koa();
    rkKoa.attachRedisKit(app, kit);
    const router = new Router();
    router.get('/visits', async (ctx) => {
      const k = rkKoa.getRedisKit(ctx);
      ctx.body = { visits: await k.exec((r) => r.incr(k.keys.key('koa-visits'))) };
    });
    app.use(router.routes());
    const server = app.callback();
    await request(server).get('/visits').expect(200, { visits: 1 });
    await request(server).get('/visits').expect(200, { visits: 2 });
  });

  describe('nestjs', () => {
    @Injectable()
    class VisitsService {
      constructor(@InjectRedisKit() readonly kit: RedisKit) {}
      count(): Promise<number> {
        return this.kit.exec((r) => r.incr(this.kit.keys.key('nest-visits')));
      }
    }

    async function appWith(imports: unknown[]): Promise<INestApplication> {
      const controller = makeController('', [
        {
          method: 'GET',
          path: 'visits',
          params: [Req()],
          handler: async () => ({ visits: await nestApp.get(VisitsService).count() }),
        },
      ]);
      const nestApp = await createNestApp({ imports, controllers: [controller], providers: [VisitsService] });
      return nestApp;
    }

    it('RedisKitModule.forRoot provides the context by injection', async () => {
      const app = await appWith([RedisKitModule.forRoot({ kit })]);
      try {
        expect(app.get(REDISKIT)).toBe(kit);
        await request(app.getHttpServer()).get('/visits').expect(200, { visits: 1 });
        await request(app.getHttpServer()).get('/visits').expect(200, { visits: 2 });
      } finally {
        await app.close();
      }
      // A context passed in is the app's to close, not the module's.
      expect(kit.state).toBe('ready');
    });

    it('RedisKitModule.forRootAsync creates, injects and closes its own context', async () => {
      const url = await sharedRedisUrl();
      const prefix = uniquePrefix('nest-async');
      const app = await appWith([
        RedisKitModule.forRootAsync({
          useFactory: async () => ({ connection: { url, prefix } }),
        }),
      ]);
      const own = app.get<RedisKit>(REDISKIT);
      expect(own).not.toBe(kit);
      expect(own.keys.prefix).toBe(prefix);
      await own.ready();
      await request(app.getHttpServer()).get('/visits').expect(200, { visits: 1 });
      await app.close();
      expect(own.state).toBe('closed');
    });

    it('forRoot without kit or connection fails with a coded error', async () => {
      await expect(appWith([RedisKitModule.forRoot({})])).rejects.toMatchObject({ code: 'ERR_REDISKIT_NO_CONNECTION' });
    });
  });
});
