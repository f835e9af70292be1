import { createRedisKit, type RedisKit, type RedisKitOptions } from '@rediskit/core';
import { sharedClusterNodes, sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';

/** Where the cluster-sensitive tests run: the shared standalone Redis and the local 6-node Cluster. */
export const TOPOLOGIES = ['standalone', 'cluster'] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** A context on the topology; `prefix` lets two contexts act as two instances of one app. */
export async function kitOn(
  topology: Topology,
  prefix: string = uniquePrefix('cache'),
  extra: Partial<RedisKitOptions> = {},
): Promise<RedisKit> {
  const connection: RedisKitOptions =
    topology === 'cluster' ? { cluster: { nodes: await sharedClusterNodes() } } : { url: await sharedRedisUrl() };
  const kit = createRedisKit({ ...connection, prefix, operationTimeout: 2000, logger: false, ...extra });
  await kit.ready(20_000);
  return kit;
}

/** Deletes one tag's record in every shard, as an eviction would. */
export async function loseTagRecords(kit: RedisKit, tag: string, shards = 16): Promise<number> {
  let deleted = 0;
  for (let s = 0; s < shards; s++) {
    const key = kit.keys.entity('cache', s).key('t', tag);
    deleted += await kit.exec((r) => r.del(key));
  }
  return deleted;
}

/**
 * Waits until the Redis clock has left the current millisecond. Purge and
 * fill times are milliseconds, so a fill whose lookup runs in the same
 * millisecond as a purge is refused (which came first is unknown): safe, but
 * a test that purges and then expects its refill to be stored waits first.
 */
export async function pastThisMillisecond(kit: RedisKit): Promise<void> {
  const at = await kit.time();
  await waitFor('the Redis clock to reach the next millisecond', async () => (await kit.time()) > at, 5000, 1);
}
