import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Param } from '@nestjs/common';
import Router from '@koa/router';
import { structures, type Leaderboard, type RedisKit } from '@rediskit/core';
import * as rkExpress from '@rediskit/express';
import * as rkKoa from '@rediskit/koa';
import { RedisKitModule, StructuresService } from '@rediskit/nestjs';
import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import { createNestApp, makeController } from '../harness';
import { sharedKit } from './helpers';

// The same two routes per framework: a page-view counter ("views in the last
// 5 minutes") and a leaderboard. The structures come from the app's context.
describe('structures from request handlers and by Nest injection', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = await sharedKit('structures-adapters');
  });
  afterAll(() => kit.close());

  it('express: structures(getRedisKit(req))', async () => {
    const app = express();
    rkExpress.attachRedisKit(app, kit);
    app.post('/pages/:page/view', async (req, res) => {
      const views = structures(rkExpress.getRedisKit(req)).windowedCounter({ name: 'express-views', window: 300_000 });
      const r = await views.incr(req.params.page);
      res.json({ last5min: r?.count ?? null });
    });
    app.post('/scores/:player/:points', async (req, res) => {
      const board = structures(rkExpress.getRedisKit(req)).leaderboard({ name: 'express-board' });
      await board.increment(req.params.player, Number(req.params.points));
      res.json({ top: await board.top(3), rank: await board.rank(req.params.player) });
    });
    await request(app).post('/pages/home/view').expect(200, { last5min: 1 });
    await request(app).post('/pages/home/view').expect(200, { last5min: 2 });
    await request(app).post('/scores/alice/10').expect(200);
    const r = await request(app).post('/scores/bob/20').expect(200);
    expect(r.body).toEqual({
      top: [
        { member: 'bob', score: 20, rank: 1 },
        { member: 'alice', score: 10, rank: 2 },
      ],
      rank: 1,
    });
  });

  it('koa: structures(getRedisKit(ctx))', async () => {
    const app = new Koa();
    rkKoa.attachRedisKit(app, kit);
    const router = new Router();
    router.post('/pages/:page/view', async (ctx) => {
      const s = structures(rkKoa.getRedisKit(ctx));
      const r = await s.windowedCounter({ name: 'koa-views', window: 300_000 }).incr(ctx.params.page!);
      await s.uniqueCounter({ name: 'koa-uniques', period: 'day' }).add(ctx.params.page!, String(ctx.get('x-visitor')));
      ctx.body = {
        last5min: r?.count ?? null,
        uniquesToday: await s.uniqueCounter({ name: 'koa-uniques', period: 'day' }).count(ctx.params.page!),
      };
    });
    app.use(router.routes());
    const server = app.callback();
    await request(server).post('/pages/home/view').set('x-visitor', 'v1').expect(200, { last5min: 1, uniquesToday: 1 });
    await request(server).post('/pages/home/view').set('x-visitor', 'v1').expect(200, { last5min: 2, uniquesToday: 1 });
    await request(server).post('/pages/home/view').set('x-visitor', 'v2').expect(200, { last5min: 3, uniquesToday: 2 });
  });

  it('nestjs: StructuresService is injectable through RedisKitModule', async () => {
    @Injectable()
    class ScoresService {
      readonly board: Leaderboard;
      constructor(readonly structures: StructuresService) {
        this.board = structures.leaderboard({ name: 'nest-board' });
      }
    }
    const controller = makeController('', [
      {
        method: 'POST',
        path: 'scores/:player/:points',
        params: [Param('player'), Param('points')],
        status: 200,
        handler: async (player: string, points: string) => {
          const scores = app.get(ScoresService);
          await scores.board.increment(player, Number(points));
          return { rank: await scores.board.rank(player), views: await scores.structures.counter({ name: 'nest-hits' }).incr('scores') };
        },
      },
    ]);
    const app = await createNestApp({ imports: [RedisKitModule.forRoot({ kit })], controllers: [controller], providers: [ScoresService] });
    try {
      await request(app.getHttpServer()).post('/scores/alice/10').expect(200, { rank: 1, views: 1 });
      await request(app.getHttpServer()).post('/scores/bob/20').expect(200, { rank: 1, views: 2 });
      // The service and structures(kit) share one registry: same instances, same data.
      expect(app.get(StructuresService).leaderboard({ name: 'nest-board' })).toBe(structures(kit).leaderboard({ name: 'nest-board' }));
      expect(await structures(kit).leaderboard({ name: 'nest-board' }).rank('alice')).toBe(2);
      expect(() => structures(kit).leaderboard({ name: 'nest-board', order: 'asc' })).toThrow(
        expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }),
      );
    } finally {
      await app.close();
    }
  });
});
