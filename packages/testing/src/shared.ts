import { startCluster, type StartedCluster } from './cluster';
import { startRedis, type StartedRedis } from './standalone';

/** Environment variables through which a Jest global setup hands servers to workers. */
export const ENV_REDIS_URL = 'REDISKIT_TEST_REDIS_URL';
export const ENV_CLUSTER_NODES = 'REDISKIT_TEST_CLUSTER_NODES';

let localRedis: Promise<StartedRedis> | undefined;
let localCluster: Promise<StartedCluster> | undefined;

/**
 * URL of a Redis shared by the whole test run: the one a global setup
 * published in `REDISKIT_TEST_REDIS_URL`, else one started for this process
 * (and reaped when it exits). Never stop or flush it; isolate with
 * {@link uniquePrefix}.
 */
export async function sharedRedisUrl(): Promise<string> {
  const fromEnv = process.env[ENV_REDIS_URL];
  if (fromEnv) return fromEnv;
  localRedis ??= startRedis();
  return (await localRedis).url;
}

/** Seed nodes of a Cluster shared by the test run (see {@link sharedRedisUrl}). */
export async function sharedClusterNodes(): Promise<Array<{ host: string; port: number }>> {
  const fromEnv = process.env[ENV_CLUSTER_NODES];
  if (fromEnv) return JSON.parse(fromEnv) as Array<{ host: string; port: number }>;
  localCluster ??= startCluster();
  return (await localCluster).nodes;
}

/**
 * For a Jest `globalSetup`: starts one standalone Redis and one Cluster for
 * the whole run and publishes them to the workers. Returns the teardown.
 *
 * @example
 * // jest.global-setup.ts
 * export default async () => { globalThis.__rediskitTeardown = await startSharedServers(); };
 */
export async function startSharedServers(options: { cluster?: boolean } = {}): Promise<() => Promise<void>> {
  const started: Array<{ stop(): Promise<void> }> = [];
  const redis = await startRedis();
  started.push(redis);
  process.env[ENV_REDIS_URL] = redis.url;
  if (options.cluster !== false) {
    const cluster = await startCluster();
    started.push(cluster);
    process.env[ENV_CLUSTER_NODES] = JSON.stringify(cluster.nodes);
  }
  return async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
}
