import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startRedis, uniquePrefix, waitFor, type StartedRedis } from '@rediskit/testing';
import { BlockingConnection } from './blocking-connection';
import { createRedisKit, type RedisKit } from './redis-kit';

describe('BlockingConnection', () => {
  let redis: StartedRedis;
  let kit: RedisKit;
  beforeAll(async () => {
    redis = await startRedis();
    // A short command timeout on the shared connection must not cut blocking reads short.
    kit = createRedisKit({ url: redis.url, prefix: uniquePrefix('blocking'), logger: false, redisOptions: { commandTimeout: 50 } });
    await kit.ready();
  });
  afterAll(async () => {
    redis.process.resume();
    await kit.close();
    await redis.stop();
  });

  it('runs a blocking command longer than the shared connection command timeout, named for CLIENT LIST', async () => {
    const conn = new BlockingConnection(kit, { name: 'rk-test:block', watchdogGrace: 1000 });
    try {
      const key = kit.keys.key('list');
      expect(await conn.run(1000, (r) => r.blpop(key, 0.5))).toBeNull();
      expect(String(await kit.redis.client('LIST'))).toContain('name=rk-test:block');
      await kit.redis.rpush(key, 'x');
      expect(await conn.run(1000, (r) => r.blpop(key, 0.5))).toEqual([key, 'x']);
    } finally {
      await conn.close();
    }
  });

  it('gives up on a command that hangs past its bound, replaces the connection, and works again', async () => {
    const fired: number[] = [];
    const conn = new BlockingConnection(kit, { name: 'rk-test:hang', watchdogGrace: 200, onWatchdog: (i) => fired.push(i.waitedMs) });
    try {
      await conn.run(100, (r) => r.blpop(kit.keys.key('none'), 0.05));
      const first = conn.current;
      redis.process.pause();
      let error: unknown;
      try {
        await conn.run(100, (r) => r.blpop(kit.keys.key('none'), 0.1));
      } catch (e) {
        error = e;
      } finally {
        redis.process.resume();
      }
      expect(error).toMatchObject({ code: 'ERR_REDISKIT_TIMEOUT', details: { watchdog: true } });
      expect(fired).toEqual([300]);
      expect(conn.current).not.toBe(first);
      expect(await conn.run(100, (r) => r.blpop(kit.keys.key('none'), 0.05))).toBeNull();
    } finally {
      await conn.close();
    }
  });

  it('interrupt() ends a command in progress at once; close() refuses further commands', async () => {
    const conn = new BlockingConnection(kit, { name: 'rk-test:stop', watchdogGrace: 10_000 });
    const pending = conn.run(10_000, (r) => r.blpop(kit.keys.key('none'), 10));
    await waitFor('the command to block', async () => / name=rk-test:stop .* cmd=blpop /.test(String(await kit.redis.client('LIST'))));
    conn.interrupt();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_REDISKIT_CLOSED' });
    await conn.close();
    await expect(conn.run(10, (r) => r.ping())).rejects.toMatchObject({ code: 'ERR_REDISKIT_CLOSED' });
  });
});
