import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import Router from '@koa/router';
import { createLockManager, createRedisKit, isRedisKitError, type LockManager, type RedisKit } from '@rediskit/core';
import * as rkExpress from '@rediskit/express';
import * as rkKoa from '@rediskit/koa';
import { LockService, RedisKitModule } from '@rediskit/nestjs';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import { ADAPTERS, type AdapterName, createNestApp, makeController } from '../harness';

// Locks serve application code, so each adapter only has to hand a handler
// a lock manager: Express and Koa through the attached context, Nest by
// injection. The same critical section runs behind each, concurrently.

interface Section {
  inside: number;
  maxInside: number;
}

/** The route's work: a critical section that notices when two requests are in it at once. */
function criticalSection(locks: LockManager, state: Section): Promise<{ fence: number }> {
  return locks.using('reports', { timeout: 20_000, retry: { delay: 5, maxDelay: 50 } }, async (_signal, lock) => {
    state.inside++;
    state.maxInside = Math.max(state.maxInside, state.inside);
    await new Promise((r) => setTimeout(r, 10));
    state.inside--;
    return { fence: lock.fence };
  });
}

function statusOf(error: unknown): number {
  if (isRedisKitError(error, 'ERR_REDISKIT_LOCK_CONTENDED')) return 409;
  if (isRedisKitError(error, 'ERR_REDISKIT_UNAVAILABLE')) return 503;
  return 500;
}

describe('locks from handlers of every adapter', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('lock-adapters'), logger: false, operationTimeout: 2000 });
    await kit.ready();
  });
  afterAll(() => kit.close());

  async function serverFor(adapter: AdapterName, state: Section): Promise<{ server: unknown; close(): Promise<void> }> {
    if (adapter === 'express') {
      const app = express();
      rkExpress.attachRedisKit(app, kit);
      app.post('/reports', async (req, res) => {
        try {
          res.json(await criticalSection(createLockManager(rkExpress.getRedisKit(req)), state));
        } catch (error) {
          res.status(statusOf(error)).json({ code: (error as { code?: string }).code });
        }
      });
      return { server: app, close: async () => {} };
    }
    if (adapter === 'koa') {
      const app = new Koa();
      rkKoa.attachRedisKit(app, kit);
      const router = new Router();
      router.post('/reports', async (ctx) => {
        try {
          ctx.body = await criticalSection(createLockManager(rkKoa.getRedisKit(ctx)), state);
        } catch (error) {
          ctx.status = statusOf(error);
          ctx.body = { code: (error as { code?: string }).code };
        }
      });
      app.use(router.routes());
      return { server: app.callback(), close: async () => {} };
    }
    @Injectable()
    class ReportService {
      constructor(readonly locks: LockService) {}
    }
    const controller = makeController('', [
      {
        method: 'POST',
        path: 'reports',
        status: 200,
        handler: () => criticalSection(nestApp.get(ReportService).locks, state),
      },
    ]);
    const nestApp = await createNestApp({
      imports: [RedisKitModule.forRoot({ kit, lock: { ttl: 4321 } })],
      controllers: [controller],
      providers: [ReportService],
    });
    // The module's lock options are the service's defaults.
    expect(nestApp.get(LockService).options.ttl).toBe(4321);
    expect(nestApp.get(ReportService).locks).toBe(nestApp.get(LockService));
    return { server: nestApp.getHttpServer(), close: () => nestApp.close() };
  }

  it.each(ADAPTERS)('%s: concurrent requests run the critical section one at a time', async (adapter) => {
    const state: Section = { inside: 0, maxInside: 0 };
    const { server, close } = await serverFor(adapter, state);
    try {
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => request(server as Parameters<typeof request>[0]).post('/reports')),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(state.maxInside).toBe(1);
      const fences = responses.map((r) => (r.body as { fence: number }).fence);
      expect(new Set(fences).size).toBe(8);
    } finally {
      await close();
    }
  });

  it('nestjs: bad lock options in the module fail the app at start with a coded error', async () => {
    await expect(createNestApp({ imports: [RedisKitModule.forRoot({ kit, lock: { ttl: -1 } })] })).rejects.toMatchObject({
      code: 'ERR_REDISKIT_INVALID_OPTION',
    });
  });
});
