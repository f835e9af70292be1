/**
 * Path of the `redis-server` binary to run: `REDISKIT_REDIS_SERVER` if set,
 * else the one on PATH (or /usr/bin, /usr/local/bin), else the one
 * redis-memory-server provides (which may download and compile Redis once).
 */
export declare function redisServerBinary(): Promise<string>;
