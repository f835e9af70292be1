import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, createStreams, type RedisKit } from '@rediskit/core';
import { startRedis, uniquePrefix, waitFor, type StartedRedis } from '@rediskit/testing';
import { Redis } from 'ioredis';

// The consumer's blocking reads run on a dedicated connection. These tests
// break that connection in the two ways that matter: closed under it (CLIENT
// KILL, a proxy or server dropping idle clients) and hung (no answer, no
// close: a frozen server or a half-open socket), which only a watchdog finds.
describe('a consumer whose reading connection breaks', () => {
  let redis: StartedRedis;
  let admin: Redis;
  let kit: RedisKit;
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    kit = createRedisKit({ url: redis.url, prefix: uniquePrefix('readfault'), logger: false });
    await kit.ready();
  });
  afterAll(async () => {
    redis.process.resume();
    await kit.close();
    admin.disconnect();
    await redis.stop();
  });

  async function clientIdByName(name: string, command?: string): Promise<string | undefined> {
    const list = String(await admin.client('LIST'));
    const line = list.split('\n').find((l) => l.includes(` name=${name} `) && (!command || l.includes(` cmd=${command} `)));
    return line ? /\bid=(\d+)/.exec(line)?.[1] : undefined;
  }

  it('CLIENT KILL on the reading connection: the consumer reconnects and resumes, losing nothing', async () => {
    const s = createStreams(kit).stream<number>('kill');
    const seen: number[] = [];
    const consumer = s.consume('g', (msg) => {
      seen.push(msg.data);
    }, { name: 'victim', block: 1000 });
    try {
      for (let round = 0; round < 3; round++) {
        let id: string | undefined;
        await waitFor('the consumer to block on its read', async () => (id = await clientIdByName('rk-stream:victim', 'xreadgroup')) !== undefined);
        await admin.client('KILL', 'ID', id!);
        await s.publish(round);
        await waitFor(`entry ${round} after the kill`, async () => seen.length === round + 1);
      }
      expect(seen).toEqual([0, 1, 2]);
      await waitFor('all acknowledged', async () => Number(((await admin.xpending(s.keys.stream, 'g')) as [number])[0]) === 0);
    } finally {
      await consumer.close();
    }
  });

  it('a read that hangs (server frozen) is detected by the watchdog and restarted', async () => {
    const s = createStreams(kit).stream<string>('hang');
    const seen: string[] = [];
    let watchdogs = 0;
    kit.events.on('streams:watchdog', (p) => {
      if (p.stream === 'hang') watchdogs++;
    });
    const consumer = s.consume('g', (msg) => {
      seen.push(msg.data);
    }, { name: 'frozen', block: 300, watchdogGrace: 300 });
    try {
      await s.publish('before');
      await waitFor('the first entry', async () => seen.length === 1);
      await waitFor('the consumer to block on its read', async () => (await clientIdByName('rk-stream:frozen', 'xreadgroup')) !== undefined);
      redis.process.pause();
      try {
        await waitFor('the watchdog to fire', async () => watchdogs > 0);
      } finally {
        redis.process.resume();
      }
      await waitFor('the context to be ready again', async () => kit.state === 'ready');
      await s.publish('after');
      await waitFor('the entry published after the hang', async () => seen.length === 2);
      expect(seen).toEqual(['before', 'after']);
    } finally {
      await consumer.close();
    }
  });
});
