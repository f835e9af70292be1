import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, isRedisKitError, SessionEngine, type RedisKit, type RedisKitLogger } from '@rediskit/core';
import { startRedis, uniquePrefix, waitFor, type StartedRedis } from '@rediskit/testing';
import request from 'supertest';
import { createSessionApp, type SessionApp } from './apps';
import { cookieHeader, record } from './helpers';

const ACCEPTED = ['ERR_REDISKIT_UNAVAILABLE', 'ERR_REDISKIT_TIMEOUT'];

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (error) {
    return isRedisKitError(error) ? error.code : `not coded: ${String(error)}`;
  }
}

function recordingLogger(): RedisKitLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string, meta?: Record<string, unknown>) => lines.push(`${m} ${meta ? JSON.stringify(meta) : ''}`);
  return { lines, warn: push, error: push, info: push };
}

// A server of our own (with AOF, so sessions survive the restart), stopped
// and paused mid-run.
describe('sessions while Redis is down', () => {
  let redis: StartedRedis;
  let kit: RedisKit;
  let logger: ReturnType<typeof recordingLogger>;
  let express: SessionApp;
  let koa: SessionApp;

  beforeAll(async () => {
    redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    logger = recordingLogger();
    kit = createRedisKit({ url: redis.url, prefix: uniquePrefix('down'), operationTimeout: 1000, logger, logInterval: 0 });
    await kit.ready();
    express = await createSessionApp('express', kit);
    koa = await createSessionApp('koa', kit);
  });
  afterAll(async () => {
    await express?.close();
    await koa?.close();
    await kit?.close();
    await redis?.stop();
  });

  it('serves requests without a session, answers every operation with a coded error, then recovers', async () => {
    const loginExpress = cookieHeader(await request(express.url).post('/login?user=alice').expect(200));
    const loginKoa = cookieHeader(await request(koa.url).post('/login?user=bob').expect(200));
    const sids = [
      (await request(express.url).get('/sid').set('Cookie', loginExpress)).body.sid as string,
      (await request(koa.url).get('/sid').set('Cookie', loginKoa)).body.sid as string,
    ];
    const storeEvents: string[] = [];
    for (const [name, app] of [['express', express], ['koa', koa]] as const) {
      app.store.on('disconnect', () => storeEvents.push(`${name} disconnect`));
      app.store.on('connect', () => storeEvents.push(`${name} connect`));
    }
    const storeErrors = record(kit, 'store-error');

    await redis.kill();
    await waitFor('both stores to report disconnect', async () =>
      ['express disconnect', 'koa disconnect'].every((e) => storeEvents.includes(e)),
    );

    // express-session skips the store while it is disconnected; koa's get resolves to no session
    await request(express.url).get('/me').set('Cookie', loginExpress).expect(200, { user: null, views: null });
    await request(koa.url).get('/me').set('Cookie', loginKoa).expect(200, { user: null, views: null });

    const e = express.engine;
    expect(await e.get(sids[0]!)).toBeNull();
    const codes = await Promise.all([
      codeOf(e.set('x', { userId: 'alice' })),
      codeOf(e.touch(sids[0]!, { userId: 'alice' })),
      codeOf(e.destroy(sids[0]!)),
      codeOf(e.listSessions('alice')),
      codeOf(e.countSessions('alice')),
      codeOf(e.revokeSessions('alice')),
      codeOf(e.ids()),
      codeOf(e.all()),
      codeOf(e.length()),
      codeOf(e.clear()),
    ]);
    for (const code of codes) expect(ACCEPTED).toContain(code);
    expect(storeErrors.some((x) => x.feature === 'session')).toBe(true);

    await redis.restart();
    await waitFor('both stores to report connect', async () =>
      ['express connect', 'koa connect'].every((x) => storeEvents.includes(x)),
    );
    await request(express.url).get('/me').set('Cookie', loginExpress).expect(200, { user: 'alice', views: 0 });
    await request(koa.url).get('/me').set('Cookie', loginKoa).expect(200, { user: 'bob', views: 0 });

    // nothing rediskit logged names a session id
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const line of logger.lines) for (const sid of sids) expect(line).not.toContain(sid);
  });

  it('a frozen Redis: reads fail by the policy within the operation timeout, writes reject, then it recovers', async () => {
    const closed = new SessionEngine(kit, { namespace: 'frozen' });
    const open = new SessionEngine(kit, { namespace: 'frozen', failPolicy: 'open' });
    await kit.ready();
    await closed.set('f1', { userId: 'carol' }, { ttl: 60_000 });

    redis.process.pause();
    try {
      expect(await codeOf(closed.get('f1'))).toMatch(/ERR_REDISKIT_(TIMEOUT|UNAVAILABLE)/);
      expect(await open.get('f1')).toBeNull();
      expect(ACCEPTED).toContain(await codeOf(closed.set('f2', { userId: 'carol' }, { ttl: 60_000 })));
      expect(ACCEPTED).toContain(await codeOf(closed.revokeSessions('carol')));
    } finally {
      redis.process.resume();
    }
    await waitFor('the context to recover', async () => kit.state === 'ready' && (await closed.get('f1')) !== null);
    expect(await closed.countSessions('carol')).toBe(1);
  });
});
