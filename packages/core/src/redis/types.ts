import type { Cluster, Redis } from 'ioredis';

/** The ioredis client a context talks through: a single node (also via Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster;
