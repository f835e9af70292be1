import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, type RedisKit } from '@rediskit/core';
import { startRedis, uniquePrefix, waitFor, type StartedRedis } from '@rediskit/testing';
import { Redis } from 'ioredis';
import { parseList } from 'structured-headers';
import { ADAPTERS } from '../harness';
import { hit, startApp, type RunningApp } from './apps';

// Redis stopped in the middle of a run, under each failure policy and through
// each adapter; then restarted: limiting from Redis resumes by itself. And
// SCRIPT FLUSH under load: scripts reload, nothing fails, nothing counts twice.

const DAY = 86_400_000;
let redis: StartedRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

const opened: Array<RunningApp | RedisKit> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function newKit(): Promise<RedisKit> {
  const kit = createRedisKit({ url: redis.url, prefix: uniquePrefix('rlf'), logger: false, operationTimeout: 300, healthCheckInterval: 50 });
  opened.push(kit);
  await kit.ready();
  return kit;
}

const remaining = (h: { headers: Record<string, string> }) =>
  h.headers.ratelimit === undefined ? undefined : (parseList(h.headers.ratelimit)[0]![1] as Map<string, unknown>).get('r');

describe.each(ADAPTERS)('%s with Redis stopped mid-run', (adapter) => {
  it.each(['open', 'closed', 'local'] as const)('fail policy %s', async (failPolicy) => {
    const kit = await newKit();
    const app = await startApp(adapter, kit, {
      routes: [{ method: 'GET', path: '/r', limit: { algorithm: 'fixed-window', limit: 3, window: DAY, failPolicy } }],
    });
    opened.push(app);
    const before = await hit(app.url, '/r');
    expect([before.status, remaining(before)]).toEqual([200, 2]);

    await redis.kill();
    await waitFor('the context to notice', async () => kit.state !== 'ready', 10_000, 10);
    const during = [await hit(app.url, '/r'), await hit(app.url, '/r'), await hit(app.url, '/r'), await hit(app.url, '/r')];
    if (failPolicy === 'open') {
      expect(during.map((h) => h.status)).toEqual([200, 200, 200, 200]);
      expect(during.every((h) => h.headers.ratelimit === undefined)).toBe(true);
    } else if (failPolicy === 'closed') {
      expect(during.map((h) => h.status)).toEqual([503, 503, 503, 503]);
      expect(during[0]!.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(during[0]!.headers['retry-after']).toBe('1');
      expect(during[0]!.body).toMatchObject({ status: 503 });
    } else {
      // An in-process limiter with this process's share (all of it here) takes over.
      expect(during.map((h) => h.status)).toEqual([200, 200, 200, 429]);
      expect(during.map(remaining)).toEqual([2, 1, 0, 0]);
    }

    await redis.restart();
    await waitFor('Redis-backed limiting to resume', async () => {
      const h = await hit(app.url, '/r');
      return h.status === 200 && remaining(h) === 2;
    }, 15_000);
  });
});

describe('SCRIPT FLUSH under load', () => {
  it('never answers 5xx and never counts a request twice', async () => {
    const kit = await newKit();
    const app = await startApp('express', kit, {
      routes: [
        {
          method: 'GET',
          path: '/load',
          limit: {
            policies: [
              { name: 'count', algorithm: 'fixed-window', limit: 1_000_000, window: DAY },
              { name: 'cells', algorithm: 'gcra', limit: 10_000, window: DAY },
            ],
          },
        },
      ],
    });
    opened.push(app);
    const admin = new Redis(redis.url);
    let flushing = true;
    let flushes = 0;
    const flusher = (async () => {
      while (flushing) {
        await admin.script('FLUSH');
        flushes++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const statuses: number[] = [];
    for (let round = 0; round < 20; round++) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => hit(app.url, '/load')));
      statuses.push(...batch.map((h) => h.status));
    }
    flushing = false;
    await flusher;
    expect(flushes).toBeGreaterThan(5);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const last = await hit(app.url, '/load');
    const r = parseList(last.headers.ratelimit!).map(([, p]) => (p as Map<string, unknown>).get('r'));
    // 201 requests, each counted exactly once by both policies.
    expect(r).toEqual([1_000_000 - 201, 10_000 - 201]);
    admin.disconnect();
  });
});
