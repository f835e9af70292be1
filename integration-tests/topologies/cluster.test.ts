import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, defineScript, LUA, type RedisKit } from '@rediskit/core';
import { sharedClusterNodes, uniquePrefix } from '@rediskit/testing';

describe('on the local 6-node Redis Cluster', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = createRedisKit({ cluster: { nodes: await sharedClusterNodes() }, prefix: uniquePrefix('cluster') });
    await kit.ready();
  });
  afterAll(() => kit.close());

  it('runs a multi-key script over keys co-located under one entity tag', async () => {
    const move = defineScript<[string, string]>({
      name: 'testMove',
      numberOfKeys: 3,
      lua: `
        redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000)
        redis.call('SET', KEYS[2], ARGV[2], 'PX', 60000)
        redis.call('SET', KEYS[3], 'x', 'PX', 60000)
        return { redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]) }`,
    });
    const user = kit.keys.entity('user', 'a:{b}*');
    const result = await move.run(kit, [user.key('one'), user.key('two'), user.key('three')], ['1', '2']);
    expect(result).toEqual(['1', '2']);
  });

  it('runs generated scripts and spreads different entities over the masters', async () => {
    const time = defineScript<[number, number]>(LUA.serverTime);
    const masters = kit.masters();
    expect(masters).toHaveLength(3);
    for (let i = 0; i < 30; i++) {
      const e = kit.keys.entity('spread', i);
      const [, n] = await time.run(kit, [e.key('a'), e.key('b')]);
      expect(n).toBe(2);
    }
  });

  it('refuses keys in different slots with ERR_REDISKIT_CROSS_SLOT, never CROSSSLOT from Redis', async () => {
    const two = defineScript({ name: 'testClusterTwo', numberOfKeys: 2, lua: 'return 1' });
    await expect(two.run(kit, [kit.keys.key('a'), kit.keys.key('b')])).rejects.toMatchObject({
      code: 'ERR_REDISKIT_CROSS_SLOT',
    });
  });

  it('scans keys across every master', async () => {
    const written: string[] = [];
    for (let i = 0; i < 60; i++) {
      const key = kit.keys.entity('scan', i).key('v');
      written.push(key);
      await kit.exec((r) => r.set(key, '1', 'PX', 60_000));
    }
    const found = new Set<string>();
    for await (const key of kit.scan(`${kit.keys.prefix}:*`)) found.add(key);
    for (const key of written) expect(found.has(key)).toBe(true);
  });
});
