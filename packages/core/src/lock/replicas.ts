import calculateSlot from 'cluster-key-slot';
import { Cluster, type Redis } from 'ioredis';
import { RedisKitError } from '../errors';
import type { RedisClient } from '../redis';

/**
 * The connection that wrote `key`: the client itself on standalone or
 * Sentinel, the master that serves the key's slot on Cluster. WAIT counts
 * the replicas that have the writes made on *its own connection*, so it must
 * go to the same node connection the lock script ran on; a WAIT sent to
 * another node answers at once with a count that says nothing about the lock.
 */
export function connectionForKey(redis: RedisClient, key: string): Redis {
  if (!(redis instanceof Cluster)) return redis;
  const nodeKey = redis.slots[calculateSlot(key)]?.[0];
  const node = nodeKey
    ? redis.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === nodeKey)
    : undefined;
  if (!node) {
    throw new RedisKitError('ERR_REDISKIT_UNAVAILABLE', `no Cluster master is known for the slot of ${JSON.stringify(key)}`, {
      details: { operation: 'lock wait' },
    });
  }
  return node;
}
