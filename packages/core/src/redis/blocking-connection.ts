import { Cluster, type RedisOptions } from 'ioredis';
import { RedisKitError } from '../errors';
import { toRedisKitError } from './errors-map';
import type { RedisKit } from './redis-kit';
import type { RedisClient } from './types';

/** Options of {@link BlockingConnection}. */
export interface BlockingConnectionOptions {
  /** `CLIENT SETNAME` of the connection, so operators (and tests) can find it in `CLIENT LIST`. */
  name: string;
  /**
   * How long past a command's own block time the watchdog waits before it
   * declares the read hung, drops the connection and opens a new one.
   */
  watchdogGrace: number;
  /** How long to wait for the connection to become ready before a command fails with ERR_REDISKIT_UNAVAILABLE. Default 2000. */
  readyTimeout?: number;
  /** Called when the watchdog gave up on a hung command. */
  onWatchdog?: (info: { waitedMs: number }) => void;
}

// The settings a blocking connection needs whatever the shared one uses: no
// client-side timeout shorter than the block time (commandTimeout,
// socketTimeout, ioredis' own blockingTimeout that resolves null but keeps a
// possibly dead socket), no offline queue and no replay after a reconnect (a
// replayed XREADGROUP could be the one that never settles).
const BLOCKING_OVERRIDES: RedisOptions = {
  commandTimeout: undefined,
  socketTimeout: undefined,
  blockingTimeout: undefined,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  lazyConnect: false,
};

/**
 * A dedicated connection for bounded blocking commands (`XREADGROUP BLOCK`,
 * `BLPOP` with a timeout), opened with `kit.duplicate()` and closed with the
 * context. Every command runs under a watchdog: if it has not settled
 * `watchdogGrace` ms after its own block time, the connection is presumed
 * hung (a half-open socket, a reply lost across a reconnect), dropped and
 * replaced, and the command rejects with ERR_REDISKIT_TIMEOUT
 * (`details.watchdog: true`) so the caller's loop simply goes round again.
 * The watchdog never relies on the client rejecting the stuck command.
 *
 * @example
 * const conn = new BlockingConnection(kit, { name: 'rk:worker', watchdogGrace: 2000 });
 * const item = await conn.run(1000, (redis) => redis.blpop(key, 1));
 * conn.close();
 */
export class BlockingConnection {
  private client: RedisClient | undefined;
  private closed = false;
  private readonly aborters = new Set<(error: RedisKitError) => void>();

  constructor(
    private readonly kit: RedisKit,
    private readonly options: BlockingConnectionOptions,
  ) {}

  /** The current client, if one is open (for diagnostics and tests). */
  get current(): RedisClient | undefined {
    return this.client;
  }

  /**
   * Runs `command` on the dedicated connection; `blockMs` is the longest the
   * command itself may block (its BLOCK or timeout argument).
   */
  async run<T>(blockMs: number, command: (redis: RedisClient) => Promise<T>, operation = 'blocking read'): Promise<T> {
    if (this.closed || this.kit.state === 'closed') {
      throw new RedisKitError('ERR_REDISKIT_CLOSED', `${operation}: the connection is closed`);
    }
    const client = await this.connected(operation);
    const budget = blockMs + this.options.watchdogGrace;
    let timer: NodeJS.Timeout | undefined;
    let abort!: (error: RedisKitError) => void;
    let hung = false;
    let pending: Promise<T>;
    try {
      pending = command(client);
    } catch (error) {
      throw toRedisKitError(error, operation);
    }
    const guard = new Promise<never>((_, reject) => {
      abort = reject;
      timer = setTimeout(() => {
        hung = true;
        reject(
          new RedisKitError('ERR_REDISKIT_TIMEOUT', `${operation}: no answer ${budget} ms after a ${blockMs} ms block; connection replaced`, {
            details: { operation, watchdog: true, timeout: budget },
          }),
        );
      }, budget);
    });
    this.aborters.add(abort);
    try {
      return await Promise.race([pending, guard]);
    } catch (error) {
      pending.catch(() => {});
      if (hung) {
        void this.drop(client);
        this.options.onWatchdog?.({ waitedMs: budget });
      }
      throw toRedisKitError(error, operation);
    } finally {
      clearTimeout(timer);
      this.aborters.delete(abort);
    }
  }

  /**
   * Makes a command in progress reject at once with ERR_REDISKIT_CLOSED and
   * drops the connection (a new one opens on the next `run`). For shutdown.
   */
  interrupt(): void {
    void this.interruptAndWait();
  }

  /** Interrupts and closes for good; resolves once the connection has ended (at most about a second). */
  close(): Promise<void> {
    this.closed = true;
    return this.interruptAndWait();
  }

  private interruptAndWait(): Promise<void> {
    const error = new RedisKitError('ERR_REDISKIT_CLOSED', 'blocking read interrupted');
    for (const abort of [...this.aborters]) abort(error);
    return this.client ? this.drop(this.client) : Promise.resolve();
  }

  /** Disconnects `client`; resolves when it has ended, so the context no longer tracks it. */
  private drop(client: RedisClient): Promise<void> {
    if (this.client === client) this.client = undefined;
    // Disconnecting an ended client arms a 2 s timer in ioredis for a socket already gone.
    if (client.status === 'end') return Promise.resolve();
    const ended =
      client.status === 'reconnecting'
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 1000);
            timer.unref();
            client.once('end', () => {
              clearTimeout(timer);
              resolve();
            });
          });
    client.disconnect();
    return ended;
  }

  private async connected(operation: string): Promise<RedisClient> {
    let client = this.client;
    if (!client || client.status === 'end' || client.status === 'close') {
      if (client) void this.drop(client);
      // A single Redis connection is not reconnected by ioredis: once broken it
      // ends and the next run opens a fresh one (the caller's loop backs off).
      // A client left "reconnecting" never ends when disconnected, which would
      // leak it into the context's set of duplicates. A Cluster client manages
      // its node connections itself.
      const single = this.kit.redis instanceof Cluster ? {} : { retryStrategy: () => null };
      client = this.kit.duplicate({ ...BLOCKING_OVERRIDES, ...single, connectionName: this.options.name });
      this.client = client;
    }
    if (client.status === 'ready') return client;
    const ready = client;
    const timeout = this.options.readyTimeout ?? 2000;
    await new Promise<void>((resolve, reject) => {
      const done = (error?: RedisKitError) => {
        clearTimeout(timer);
        ready.off('ready', onReady);
        ready.off('end', onEnd);
        this.aborters.delete(onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => done();
      const onEnd = () =>
        done(new RedisKitError('ERR_REDISKIT_UNAVAILABLE', `${operation}: could not connect to Redis`, { details: { operation } }));
      const onAbort = (error: RedisKitError) => done(error);
      const timer = setTimeout(
        () => done(new RedisKitError('ERR_REDISKIT_UNAVAILABLE', `${operation}: Redis not reachable within ${timeout} ms`, { details: { operation } })),
        timeout,
      );
      ready.once('ready', onReady);
      ready.once('end', onEnd);
      this.aborters.add(onAbort);
    });
    return ready;
  }
}
