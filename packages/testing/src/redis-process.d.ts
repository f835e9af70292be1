export interface RedisProcessOptions {
    /** Extra `redis-server` arguments, e.g. `['--appendonly', 'yes']`. */
    args?: string[];
    /** Run as a sentinel with this config text (port and dir are added). */
    sentinelConfig?: string;
    /** Fixed port; default a free one. */
    port?: number;
}
/** A redis-server (or sentinel) process on 127.0.0.1 that this process owns. */
export declare class RedisProcess {
    private readonly options;
    readonly host = "127.0.0.1";
    port: number;
    /** Working directory (AOF, RDB, nodes.conf); kept across restart(), removed by stop(). */
    readonly dir: string;
    private child;
    private redisPid;
    private output;
    private exited;
    constructor(options?: RedisProcessOptions);
    get url(): string;
    /** PID of redis-server itself (for SIGSTOP/SIGCONT in fault tests). */
    get pid(): number | undefined;
    get running(): boolean;
    /** Starts the server and waits until it answers PING. Retries on a port race. */
    start(): Promise<void>;
    private spawnOn;
    /** Kills the server (SIGKILL: like a crash) but keeps its port and data dir for restart(). */
    kill(): Promise<void>;
    /** Synchronous kill, for exit hooks. */
    killNow(): void;
    /** Starts again on the same port with the same data dir (AOF survives). */
    restart(): Promise<void>;
    /** Freezes the process (SIGSTOP): the port accepts connections but nothing answers. */
    pause(): void;
    /** Undoes pause(). */
    resume(): void;
    /** Kills the server and removes its data dir. */
    stop(): Promise<void>;
    /** The last lines the server printed (for failure messages). */
    get log(): string;
}
/** True when `host:port` answers a RESP PING with PONG within 500 ms. */
export declare function ping(host: string, port: number): Promise<boolean>;
