import { describe, expect, it } from '@jest/globals';
import { Cluster, Redis } from 'ioredis';
import { ping, sharedClusterNodes, startRedis, uniquePrefix } from './index';

describe('@rediskit/testing', () => {
  it('starts a standalone Redis that answers, and kill/restart keep its port', async () => {
    const redis = await startRedis();
    try {
      expect(await ping(redis.host, redis.port)).toBe(true);
      await redis.kill();
      expect(await ping(redis.host, redis.port)).toBe(false);
      await redis.restart();
      expect(await ping(redis.host, redis.port)).toBe(true);
    } finally {
      await redis.stop();
    }
    expect(await ping(redis.host, redis.port)).toBe(false);
  });

  it('keeps AOF data across a kill and restart', async () => {
    const redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    try {
      const c = new Redis(redis.url);
      await c.set('k', 'v');
      c.disconnect();
      await redis.kill();
      await redis.restart();
      const d = new Redis(redis.url);
      expect(await d.get('k')).toBe('v');
      d.disconnect();
    } finally {
      await redis.stop();
    }
  });

  it('serves a 6-node Cluster with 3 masters and 3 replicas', async () => {
    const nodes = await sharedClusterNodes();
    expect(nodes).toHaveLength(6);
    const cluster = new Cluster(nodes);
    try {
      await cluster.set('{x}a', '1');
      expect(await cluster.get('{x}a')).toBe('1');
      const masters = cluster.nodes('master');
      expect(masters).toHaveLength(3);
    } finally {
      cluster.disconnect();
    }
  });

  it('gives distinct prefixes', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => uniquePrefix('x')));
    expect(seen.size).toBe(1000);
  });
});
