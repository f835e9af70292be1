import { RedisProcess } from './redis-process';
/** A master, a replica and sentinels started by {@link startSentinel}. */
export interface StartedSentinel {
    /** For `createRedisKit({ sentinel: { sentinels, name } })`. */
    readonly sentinels: Array<{
        host: string;
        port: number;
    }>;
    /** The master group name. */
    readonly name: string;
    readonly servers: RedisProcess[];
    readonly sentinelProcesses: RedisProcess[];
    /** Address of the current master, as the sentinels see it. */
    master(): Promise<{
        host: string;
        port: number;
    }>;
    /**
     * Runs `SENTINEL FAILOVER` and resolves once the sentinels name the former
     * replica as master and it accepts writes.
     */
    failover(): Promise<{
        host: string;
        port: number;
    }>;
    stop(): Promise<void>;
}
export interface StartSentinelOptions {
    /** Number of sentinels. Default 1. */
    sentinels?: number;
    /** Master group name. Default `'rediskit'`. */
    name?: string;
}
/**
 * Starts a Sentinel setup on loopback: a master, one replica and (default)
 * one sentinel, with short failure timeouts so failover tests run in seconds.
 *
 * @example
 * const s = await startSentinel();
 * const kit = createRedisKit({ sentinel: { sentinels: s.sentinels, name: s.name } });
 * await s.failover();
 */
export declare function startSentinel(options?: StartSentinelOptions): Promise<StartedSentinel>;
