import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { createCache, createRedisKit, RedisCache, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import request from 'supertest';
import { bundleWorker, startWorker } from '../harness';
import { cacheStatus, startApp } from './apps';

function message<T>(child: ChildProcess, pick: (m: Record<string, unknown>) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      const v = pick(m);
      if (v !== undefined) {
        child.off('message', onMessage);
        resolve(v);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
  });
}

describe('stampede protection across processes', () => {
  let file: string;
  let url: string;
  beforeAll(async () => {
    file = await bundleWorker(new URL('./__fixtures__/cache-worker.ts', import.meta.url));
    url = await sharedRedisUrl();
  });

  it('coalesces 50 concurrent misses split across two app processes into one origin call', async () => {
    const prefix = uniquePrefix('stampede');
    const workers = [0, 1].map(() => startWorker(file, { url, prefix, mode: 'count', delay: 300 }));
    try {
      const ports = await Promise.all(workers.map((w) => message(w, (m) => m.port as number | undefined)));
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) => request(`http://127.0.0.1:${ports[i % 2]}`).get('/stampede').timeout(20_000)),
      );
      expect(responses.every((r) => r.status === 200 && r.body.n === 1)).toBe(true);
      const redis = createRedisKit({ url, prefix, logger: false });
      try {
        await redis.ready();
        expect(await redis.exec((r) => r.get(redis.keys.key('origin-calls')))).toBe('1');
      } finally {
        await redis.close();
      }
    } finally {
      for (const w of workers) w.kill('SIGKILL');
    }
  });

  describe('when the leader dies mid-fill', () => {
    let kit: RedisKit;
    const prefix = uniquePrefix('leader-dies');
    beforeAll(async () => {
      kit = createRedisKit({ url, prefix, operationTimeout: 2000, logger: false });
      await kit.ready();
    });
    afterAll(async () => {
      await RedisCache.of(kit).idle();
      await kit.close();
    });

    it('a waiter gives up after waitTimeout, goes to the origin itself, and stores the result', async () => {
      // The leader's lock outlives the wait: the waiter must not wait for it.
      createCache(kit, { waitTimeout: 500, lockTtl: 60_000 });
      const leader = startWorker(file, { url, prefix, mode: 'hang' });
      let calls = 0;
      const app = await startApp('express', kit, [
        { method: 'GET', path: '/stampede', cache: { ttl: 60_000 }, handler: () => (calls++, { body: { from: 'waiter' } }) },
      ]);
      try {
        const port = await message(leader, (m) => m.port as number | undefined);
        const entered = message(leader, (m) => (m.entered ? true : undefined));
        const dying = request(`http://127.0.0.1:${port}`).get('/stampede').timeout(30_000).catch(() => 'gone');
        await entered;
        leader.kill('SIGKILL');
        await dying;
        const r = await request(app.url).get('/stampede').timeout(20_000).expect(200, { from: 'waiter' });
        expect(cacheStatus(r.headers)).toMatchObject({ hit: false, collapsed: false });
        expect(calls).toBe(1);
        const hit = await request(app.url).get('/stampede').expect(200, { from: 'waiter' });
        expect(cacheStatus(hit.headers).hit).toBe(true);
      } finally {
        leader.kill('SIGKILL');
        await app.close();
      }
    });
  });
});
