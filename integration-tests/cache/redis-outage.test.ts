import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, RedisCache, type RedisKit } from '@rediskit/core';
import { startRedis, waitFor, type StartedRedis } from '@rediskit/testing';
import request from 'supertest';
import { ADAPTERS } from '../harness';
import { cacheStatus, startApp, type TestApp } from './apps';

// The cache fails open: with Redis stopped, frozen or flushed, every request
// is answered by the origin, within the operation timeout added at most (the
// requests below would hang past their 5 s limit otherwise), with no
// unhandled rejection, and caching resumes by itself.
describe.each(ADAPTERS)('with Redis failing, through %s', (adapter) => {
  let redis: StartedRedis;
  let kit: RedisKit;
  let app: TestApp;
  let calls = 0;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    redis = await startRedis();
    kit = createRedisKit({
      url: redis.url,
      prefix: 'outage',
      operationTimeout: 150,
      degradeAfterTimeouts: 3,
      healthCheckInterval: 100,
      logger: false,
    });
    await kit.ready();
    app = await startApp(adapter, kit, [
      { method: 'GET', path: '/page', cache: { ttl: 60_000, tags: ['page'] }, handler: () => (calls++, { body: { calls } }) },
    ]);
  });
  afterEach(() => expect(rejections).toEqual([]));
  afterAll(async () => {
    await app.close();
    await RedisCache.of(kit).idle();
    await kit.close();
    await redis.stop();
    process.off('unhandledRejection', onRejection);
  });

  const get = () => request(app.url).get('/page').timeout(5000);
  const hit = async () => {
    const r = await get();
    return r.status === 200 && r.headers['cache-status'] !== undefined && cacheStatus(r.headers).hit;
  };

  it('answers from the origin while Redis is down, refuses to claim a purge, and caches again once it is back', async () => {
    await get().expect(200);
    await waitFor('a hit', hit);
    await redis.kill();
    const before = calls;
    for (let i = 0; i < 20; i++) {
      const r = await get().expect(200);
      expect(cacheStatus(r.headers)).toMatchObject({ hit: false, fwd: 'bypass' });
    }
    expect(calls).toBe(before + 20);
    await expect(RedisCache.of(kit).purgeTags('page')).rejects.toMatchObject({ code: 'ERR_REDISKIT_CACHE_PURGE' });
    await redis.restart();
    await waitFor('caching to resume', hit, 20_000, 100);
  });

  it('answers from the origin while Redis is frozen, and recovers when it answers again', async () => {
    await waitFor('a hit', hit);
    redis.process.pause();
    try {
      const before = calls;
      const responses = await Promise.all(Array.from({ length: 10 }, () => get()));
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(calls).toBeGreaterThan(before);
      expect(kit.state).toBe('degraded');
    } finally {
      redis.process.resume();
    }
    await waitFor('caching to resume', hit, 20_000, 100);
  });

  it('refills after Redis was flushed', async () => {
    await waitFor('a hit', hit);
    await kit.exec((r) => r.flushall());
    const r = await get().expect(200);
    expect(cacheStatus(r.headers).hit).toBe(false);
    await waitFor('a hit again', hit);
  });
});
