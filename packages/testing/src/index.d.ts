export { startRedis, type StartedRedis, type StartRedisOptions } from './standalone';
export { startCluster, type StartedCluster, type StartClusterOptions } from './cluster';
export { startSentinel, type StartedSentinel, type StartSentinelOptions } from './sentinel';
export { RedisProcess, ping, type RedisProcessOptions } from './redis-process';
export { uniquePrefix } from './prefix';
export { waitFor } from './admin';
export { sharedRedisUrl, sharedClusterNodes, startSharedServers, ENV_REDIS_URL, ENV_CLUSTER_NODES, } from './shared';
export { redisServerBinary } from './redis-binary';
export { freePort } from './ports';
