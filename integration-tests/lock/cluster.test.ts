import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLockManager, createRedisKit, type LockManager, type RedisKit } from '@rediskit/core';
import { sharedClusterNodes, uniquePrefix } from '@rediskit/testing';
import { Redis } from 'ioredis';

// The local 6-node Cluster: 3 masters, each with one replica.
describe('locks on the local Redis Cluster', () => {
  let kit: RedisKit;
  let locks: LockManager;
  let nodes: Array<{ host: string; port: number }>;
  const admins: Redis[] = [];
  const adminFor = (host: string, port: number) => {
    const r = new Redis({ host, port, lazyConnect: false, maxRetriesPerRequest: 1 });
    admins.push(r);
    return r;
  };

  beforeAll(async () => {
    nodes = await sharedClusterNodes();
    kit = createRedisKit({ cluster: { nodes }, prefix: uniquePrefix('lock-cluster'), logger: false, operationTimeout: 2000 });
    await kit.ready(20_000);
    nodes.forEach((n) => adminFor(n.host, n.port));
    locks = createLockManager(kit, { ttl: 10_000, timeout: 0 });
  });
  afterAll(async () => {
    admins.forEach((a) => a.disconnect());
    await kit.close();
  });

  /** The master that has `key`, found by asking every node, and that master's replica. */
  async function whereIs(key: string): Promise<{ master: Redis; replica: Redis }> {
    for (const conn of admins.slice(0, nodes.length)) {
      const role = ((await conn.call('ROLE')) as unknown[])[0];
      if (role !== 'master') continue;
      // A master that does not serve the key's slot answers MOVED.
      const has = await conn.exists(key).catch(() => 0);
      if (has === 1) {
        const info = await conn.info('replication');
        const m = /slave0:ip=([^,]+),port=(\d+)/.exec(info)!;
        const replica = admins.slice(0, nodes.length).find((a) => a.options.port === Number(m[2]))!;
        return { master: conn, replica };
      }
    }
    throw new Error(`no master has ${key}`);
  }

  async function waitCalls(conn: Redis): Promise<number> {
    const stats = await conn.info('commandstats');
    return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  it('takes multi-resource locks under one hash tag, on every master', async () => {
    const masterPorts = new Set<number>();
    for (let i = 0; i < 24; i++) {
      const resources = [`{order:${i}}:items`, `{order:${i}}:payment`, `{order:${i}}`];
      const lock = (await locks.tryAcquire(resources))!;
      expect(lock.resources).toEqual(resources);
      expect(await locks.tryAcquire(`{order:${i}}:payment`)).toBeNull();
      const { master } = await whereIs(kit.keys.entity('lock', `order:${i}`).key(`{order:${i}}:items`));
      masterPorts.add(master.options.port!);
      await lock.release();
      const single = (await locks.tryAcquire(`{order:${i}}:payment`))!;
      expect(single.resources).toEqual([`{order:${i}}:payment`]);
      await single.release();
    }
    expect(masterPorts.size).toBe(3);
  });

  it('refuses resources without a shared hash tag with ERR_REDISKIT_CROSS_SLOT, before Redis sees them', async () => {
    await expect(locks.tryAcquire(['order:1', 'order:2'])).rejects.toMatchObject({ code: 'ERR_REDISKIT_CROSS_SLOT' });
    await expect(locks.tryAcquire(['{a}:x', '{b}:x'])).rejects.toMatchObject({ code: 'ERR_REDISKIT_CROSS_SLOT' });
  });

  it('sends WAIT to the master that holds the lock, and the replica then has it', async () => {
    const seenMasters = new Set<number>();
    for (const resource of ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot']) {
      const key = kit.keys.entity('lock', resource).key();
      const masters = kit.masters();
      const before = await Promise.all(masters.map(waitCalls));
      const lock = (await locks.tryAcquire(resource, { waitForReplicas: { replicas: 1, timeout: 2000 } }))!;
      expect(lock.replicas).toBe(1);
      const after = await Promise.all(masters.map(waitCalls));

      const { master, replica } = await whereIs(key);
      seenMasters.add(master.options.port!);
      masters.forEach((m, i) => {
        const delta = after[i]! - before[i]!;
        expect(delta).toBe(m.options.port === master.options.port ? 1 : 0);
      });
      // Acknowledged means the replica has the lock, with this owner.
      await replica.call('READONLY');
      expect(await replica.hget(key, 'owner')).toBe(lock.token);
      await lock.release();
    }
    expect(seenMasters.size).toBeGreaterThan(1);
  });

  it('fencing tokens keep increasing for a resource on Cluster', async () => {
    const other = createLockManager(kit, { ttl: 5000 });
    let last = 0;
    for (let i = 0; i < 10; i++) {
      await (i % 2 ? locks : other).using('{cluster}:fenced', async (_signal, lock) => {
        expect(lock.fence).toBeGreaterThan(last);
        last = lock.fence;
      });
    }
  });
});
