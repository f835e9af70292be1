import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createRedisKit, type RedisKit } from '@rediskit/core';
import * as rkExpress from '@rediskit/express';
import * as rkKoa from '@rediskit/koa';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import Router from '@koa/router';
import session from 'express-session';
import express4 from 'express4';
import koaSession from 'koa-session';
import Koa2 from 'koa2';
import request from 'supertest';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// The peer ranges promise Express 4 and Koa 2 besides the current majors the
// behaviour suites run on. This proves each feature's adapter on them.
describe('older framework majors', () => {
  // One context (one prefix) per test: the two apps must not share buckets.
  let kit: RedisKit;
  beforeEach(async () => {
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('compat'), logger: false });
    await kit.ready();
  });
  afterEach(() => kit.close());

  it('Express 4: cache, rate limit, idempotency and the session store', async () => {
    const app = express4();
    expect(require('express4/package.json').version).toMatch(/^4\./);
    rkExpress.attachRedisKit(app as never, kit);
    app.use(express4.json());
    app.use(
      session({
        store: new rkExpress.RedisSessionStore(kit),
        secret: 'compat',
        resave: false,
        saveUninitialized: false,
      }),
    );
    let origin = 0;
    app.get('/cached', rkExpress.cache({ ttl: 60_000 }) as never, (_req, res) => {
      origin++;
      res.set('cache-control', 'public, max-age=60').json({ origin });
    });
    app.get('/limited', rkExpress.rateLimit({ limit: 2, window: 60_000 }) as never, (_req, res) => {
      res.send('ok');
    });
    let orders = 0;
    app.post('/orders', rkExpress.idempotency({ required: true }) as never, (_req, res) => {
      orders++;
      res.status(201).json({ order: orders });
    });
    app.post('/login', (req, res) => {
      (req.session as unknown as { user: string }).user = 'ada';
      res.send('in');
    });
    app.get('/me', (req, res) => {
      res.json({ user: (req.session as unknown as { user?: string }).user ?? null });
    });

    await request(app).get('/cached').expect(200, { origin: 1 });
    const hit = await request(app).get('/cached').expect(200, { origin: 1 });
    expect(hit.headers['cache-status']).toMatch(/hit/);

    await request(app).get('/limited').expect(200);
    await request(app).get('/limited').expect(200);
    const limited = await request(app).get('/limited').expect(429);
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);

    const key = 'compat-express4-key-1';
    await request(app).post('/orders').set('Idempotency-Key', key).send({ a: 1 }).expect(201, { order: 1 });
    const replay = await request(app).post('/orders').set('Idempotency-Key', key).send({ a: 1 }).expect(201, { order: 1 });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(orders).toBe(1);

    const login = await request(app).post('/login').expect(200);
    const cookie = login.headers['set-cookie'] as unknown as string[];
    await request(app).get('/me').set('Cookie', cookie).expect(200, { user: 'ada' });
  });

  it('Koa 2: cache, rate limit, idempotency and the session store', async () => {
    const app = new Koa2();
    expect(require('koa2/package.json').version).toMatch(/^2\./);
    app.keys = ['compat'];
    rkKoa.attachRedisKit(app as never, kit);
    app.use(koaSession({ store: new rkKoa.RedisSessionStore(kit) as never }, app as never) as never);
    const router = new Router();
    let origin = 0;
    router.get('/cached', rkKoa.cache({ ttl: 60_000 }) as never, (ctx) => {
      origin++;
      ctx.set('cache-control', 'public, max-age=60');
      ctx.body = { origin };
    });
    router.get('/limited', rkKoa.rateLimit({ limit: 2, window: 60_000 }) as never, (ctx) => {
      ctx.body = 'ok';
    });
    let orders = 0;
    router.post('/orders', rkKoa.idempotency({ required: true }) as never, (ctx) => {
      orders++;
      ctx.status = 201;
      ctx.body = { order: orders };
    });
    router.post('/login', (ctx) => {
      ctx.session!.user = 'ada';
      ctx.body = 'in';
    });
    router.get('/me', (ctx) => {
      ctx.body = { user: ctx.session?.user ?? null };
    });
    app.use(router.routes() as never);
    const server = app.callback();

    await request(server).get('/cached').expect(200, { origin: 1 });
    const hit = await request(server).get('/cached').expect(200, { origin: 1 });
    expect(hit.headers['cache-status']).toMatch(/hit/);

    await request(server).get('/limited').expect(200);
    await request(server).get('/limited').expect(200);
    await request(server).get('/limited').expect(429);

    const key = 'compat-koa2-key-1';
    await request(server).post('/orders').set('Idempotency-Key', key).expect(201, { order: 1 });
    const replay = await request(server).post('/orders').set('Idempotency-Key', key).expect(201, { order: 1 });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(orders).toBe(1);

    const login = await request(server).post('/login').expect(200);
    const cookie = login.headers['set-cookie'] as unknown as string[];
    await request(server).get('/me').set('Cookie', cookie).expect(200, { user: 'ada' });
  });
});
