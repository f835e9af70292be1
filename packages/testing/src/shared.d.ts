/** Environment variables through which a Jest global setup hands servers to workers. */
export declare const ENV_REDIS_URL = "REDISKIT_TEST_REDIS_URL";
export declare const ENV_CLUSTER_NODES = "REDISKIT_TEST_CLUSTER_NODES";
/**
 * URL of a Redis shared by the whole test run: the one a global setup
 * published in `REDISKIT_TEST_REDIS_URL`, else one started for this process
 * (and reaped when it exits). Never stop or flush it; isolate with
 * {@link uniquePrefix}.
 */
export declare function sharedRedisUrl(): Promise<string>;
/** Seed nodes of a Cluster shared by the test run (see {@link sharedRedisUrl}). */
export declare function sharedClusterNodes(): Promise<Array<{
    host: string;
    port: number;
}>>;
/**
 * For a Jest `globalSetup`: starts one standalone Redis and one Cluster for
 * the whole run and publishes them to the workers. Returns the teardown.
 *
 * @example
 * // jest.global-setup.ts
 * export default async () => { globalThis.__rediskitTeardown = await startSharedServers(); };
 */
export declare function startSharedServers(options?: {
    cluster?: boolean;
}): Promise<() => Promise<void>>;
