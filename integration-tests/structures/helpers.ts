import { createRedisKit, Period, type RedisKit, type RedisKitOptions } from '@rediskit/core';
import { sharedClusterNodes, sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';

/** A context on the shared standalone Redis (or Cluster), under a prefix no other test uses. */
export async function sharedKit(label: string, topology: 'standalone' | 'cluster' = 'standalone', extra: Partial<RedisKitOptions> = {}): Promise<RedisKit> {
  const connection =
    topology === 'cluster' ? { cluster: { nodes: await sharedClusterNodes() } } : { url: await sharedRedisUrl() };
  // A generous timeout: the machine is shared and these tests are about results, not latency.
  const kit = createRedisKit({ ...connection, prefix: uniquePrefix(label), operationTimeout: 5000, logger: false, ...extra });
  await kit.ready();
  return kit;
}

/** Waits until the Redis clock is in a later period than the one holding `at` (Redis ms). */
export async function nextPeriod(kit: RedisKit, periodMs: number, at: number): Promise<void> {
  const p = new Period('custom', periodMs);
  const start = p.index(at);
  await waitFor('the next period on the Redis clock', async () => p.index(await kit.time()) > start, 10_000, 20);
}
