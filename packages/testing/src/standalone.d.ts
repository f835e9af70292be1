import { RedisProcess } from './redis-process';
/** A running standalone Redis started by {@link startRedis}. */
export interface StartedRedis {
    /** `redis://127.0.0.1:<port>` */
    readonly url: string;
    readonly host: string;
    readonly port: number;
    /** The process, for fault tests: kill(), restart(), pause(), resume(). */
    readonly process: RedisProcess;
    /** Kills the server (as a crash would) and keeps port and data for restart(). */
    kill(): Promise<void>;
    /** Starts it again on the same port; with AOF on, data survives. */
    restart(): Promise<void>;
    /** Stops the server and removes its data. Safe to call twice. */
    stop(): Promise<void>;
}
export interface StartRedisOptions {
    /** Extra redis-server arguments, e.g. `['--appendonly', 'yes', '--appendfsync', 'always']`. */
    args?: string[];
}
/**
 * Starts a throwaway standalone Redis on a free loopback port and resolves
 * once it answers PING (about 60 ms with the system binary).
 *
 * @example
 * const redis = await startRedis();
 * const kit = createRedisKit({ url: redis.url, prefix: uniquePrefix() });
 * // ...
 * await kit.close();
 * await redis.stop();
 */
export declare function startRedis(options?: StartRedisOptions): Promise<StartedRedis>;
