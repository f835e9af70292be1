import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, createTasks, type RedisKit } from '@rediskit/core';
import { startRedis, uniquePrefix, waitFor, type StartedRedis } from '@rediskit/testing';
import { Redis } from 'ioredis';

// A worker waits for due tasks with a bounded BLPOP on a dedicated connection.
describe('a task worker whose waiting connection breaks', () => {
  let redis: StartedRedis;
  let admin: Redis;
  let kit: RedisKit;
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    kit = createRedisKit({ url: redis.url, prefix: uniquePrefix('waitfault'), logger: false });
    await kit.ready();
  });
  afterAll(async () => {
    redis.process.resume();
    await kit.close();
    admin.disconnect();
    await redis.stop();
  });

  async function blockedClientId(): Promise<string | undefined> {
    const list = String(await admin.client('LIST'));
    const line = list.split('\n').find((l) => l.includes(' name=rk-tasks:') && l.includes(' cmd=blpop '));
    return line ? /\bid=(\d+)/.exec(line)?.[1] : undefined;
  }

  it('CLIENT KILL on the waiting connection: the worker resumes', async () => {
    const q = createTasks(kit).queue<number>('kill');
    const ran: number[] = [];
    const worker = q.process((task) => {
      ran.push(task.payload);
    }, { maxBlock: 1000 });
    try {
      for (let round = 0; round < 3; round++) {
        let id: string | undefined;
        await waitFor('the worker to wait', async () => (id = await blockedClientId()) !== undefined);
        await admin.client('KILL', 'ID', id!);
        await q.schedule(round);
        await waitFor(`task ${round}`, async () => ran.length === round + 1);
      }
      expect(ran).toEqual([0, 1, 2]);
    } finally {
      await worker.close();
    }
  });

  it('a wait that hangs (server frozen) is detected by the watchdog and restarted', async () => {
    const q = createTasks(kit).queue<string>('hang');
    const ran: string[] = [];
    let watchdogs = 0;
    kit.events.on('tasks:watchdog', (p) => {
      if (p.queue === 'hang') watchdogs++;
    });
    const worker = q.process((task) => {
      ran.push(task.payload);
    }, { maxBlock: 300, watchdogGrace: 300 });
    try {
      await waitFor('the worker to wait', async () => (await blockedClientId()) !== undefined);
      redis.process.pause();
      try {
        await waitFor('the watchdog to fire', async () => watchdogs > 0);
      } finally {
        redis.process.resume();
      }
      await waitFor('the context to be ready again', async () => kit.state === 'ready');
      await q.schedule('after');
      await waitFor('the task scheduled after the hang', async () => ran.length === 1);
      expect(ran).toEqual(['after']);
    } finally {
      await worker.close();
    }
  });
});
