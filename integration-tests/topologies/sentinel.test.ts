import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, type RedisKit } from '@rediskit/core';
import { startSentinel, uniquePrefix, waitFor, type StartedSentinel } from '@rediskit/testing';

describe('through Redis Sentinel', () => {
  let sentinel: StartedSentinel;
  let kit: RedisKit;
  beforeAll(async () => {
    sentinel = await startSentinel();
    kit = createRedisKit({
      sentinel: { sentinels: sentinel.sentinels, name: sentinel.name },
      prefix: uniquePrefix('sentinel'),
      logger: false,
    });
    await kit.ready();
  }, 60_000);
  afterAll(async () => {
    await kit?.close();
    await sentinel?.stop();
  });

  it('connects to the master the sentinels name and keeps working across SENTINEL FAILOVER', async () => {
    const key = kit.keys.key('counter');
    expect(await kit.exec((r) => r.incr(key))).toBe(1);
    const before = await sentinel.master();
    const connectedTo = () => {
      const opts = (kit.redis as unknown as { stream?: { remotePort?: number } }).stream;
      return opts?.remotePort;
    };
    expect(connectedTo()).toBe(before.port);

    // Make sure the replica has the first write before it is promoted.
    expect(await kit.exec((r) => r.wait(1, 2000), { timeout: 3000 })).toBe(1);

    const after = await sentinel.failover();
    expect(after.port).not.toBe(before.port);
    // The context finds the new master by itself: no restart, no new context.
    await waitFor(
      'the context to talk to the new master',
      async () => {
        try {
          const role = (await kit.exec((r) => r.role())) as [string];
          return role[0] === 'master' && connectedTo() === after.port;
        } catch {
          return false;
        }
      },
      30_000,
    );
    expect(await kit.exec((r) => r.incr(key))).toBe(2);
    expect(kit.state).toBe('ready');
  }, 60_000);
});
