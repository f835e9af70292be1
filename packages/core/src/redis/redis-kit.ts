import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { RedisKitError } from '../errors';
import { RedisKitEvents, type RedisKitState } from '../events';
import { KeySpace } from '../keys';
import { Advisories, assertKnownOptions, optNumber, optString, type ValidationsOption } from '../options';
import { toRedisKitError } from './errors-map';
import type { Attempt, FailPolicy } from './fail-policy';
import { consoleLogger, silentLogger, ThrottledLog, type RedisKitLogger } from './logger';
import type { RedisClient } from './types';

/** A host and port of a Redis node or sentinel. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** How to reach Sentinel-managed Redis. */
export interface SentinelConnection {
  sentinels: RedisNodeAddress[];
  /** The master group name configured in the sentinels. */
  name: string;
  password?: string;
  username?: string;
  sentinelPassword?: string;
  sentinelUsername?: string;
  db?: number;
}

/** How to reach a Redis Cluster. */
export interface ClusterConnection {
  nodes: Array<RedisNodeAddress | string>;
  /** Passed to ioredis `Cluster`; rediskit's fail-fast settings are applied on top. */
  options?: ClusterOptions;
}

/**
 * Options of {@link createRedisKit}. Give exactly one of `url`, `sentinel`,
 * `cluster` or `client`.
 */
export interface RedisKitOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://` for TLS. */
  url?: string;
  sentinel?: SentinelConnection;
  cluster?: ClusterConnection;
  /**
   * An ioredis `Redis` or `Cluster` the app already has. rediskit never closes
   * it; it does not change its options, but it still never waits on its
   * offline queue (commands are not sent while it is not ready).
   */
  client?: RedisClient;
  /** Extra ioredis options for connections rediskit opens (TLS, auth, ...). */
  redisOptions?: RedisOptions;
  /** Namespace of every key. Default `'rk'`. */
  prefix?: string;
  /** Joins key segments. Default `':'`. */
  separator?: string;
  /** Longest user-supplied key part in bytes before it is hashed. Default 128. */
  maxKeyPartLength?: number;
  /** Timeout of each Redis operation made for a request, in ms. Default 100. */
  operationTimeout?: number;
  /** Consecutive timeouts after which the context turns `degraded`. Default 5; 0 never. */
  degradeAfterTimeouts?: number;
  /** While degraded, how often a PING checks whether Redis answers again, in ms. Default 1000. */
  healthCheckInterval?: number;
  /** Logger for advisories and failures; `false` silences. Default console. */
  logger?: RedisKitLogger | false;
  /** At most one log line per failing feature per this interval, in ms. Default 30000. */
  logInterval?: number;
  /** Advisory checks; `false` switches all off, `{ evictionPolicy: false }` one. Default all on. */
  validations?: ValidationsOption;
}

/** Options after defaults, frozen on the context. */
export interface ResolvedRedisKitOptions {
  readonly prefix: string;
  readonly separator: string;
  readonly maxKeyPartLength: number;
  readonly operationTimeout: number;
  readonly degradeAfterTimeouts: number;
  readonly healthCheckInterval: number;
  readonly logInterval: number;
}

const KNOWN_OPTIONS = [
  'url',
  'sentinel',
  'cluster',
  'client',
  'redisOptions',
  'prefix',
  'separator',
  'maxKeyPartLength',
  'operationTimeout',
  'degradeAfterTimeouts',
  'healthCheckInterval',
  'logger',
  'logInterval',
  'validations',
] as const;

const WHERE = 'createRedisKit';

/**
 * Connection settings that make request-path commands fail fast instead of
 * waiting: no offline queue, no replay of commands that were in flight when
 * the connection dropped (a replayed INCR would count twice), reconnect in the
 * background with capped exponential backoff and jitter.
 */
function failFastOptions(): RedisOptions {
  return {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    enableReadyCheck: true,
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(2000, 25 * 2 ** Math.min(times, 7)) + Math.floor(Math.random() * 50),
  };
}

function parseNode(node: RedisNodeAddress | string): RedisNodeAddress {
  if (typeof node === 'string') {
    const url = new URL(node.includes('://') ? node : `redis://${node}`);
    return { host: url.hostname, port: Number(url.port || 6379) };
  }
  return node;
}

/**
 * One per app: the Redis connection, key space, events and fail-fast rules
 * every rediskit feature shares. Create it with {@link createRedisKit}.
 */
export class RedisKit {
  /** The ioredis client (a `Cluster` on Cluster). */
  readonly redis: RedisClient;
  readonly keys: KeySpace;
  readonly events: RedisKitEvents;
  readonly options: ResolvedRedisKitOptions;
  readonly logger: RedisKitLogger;
  readonly advisories: Advisories;
  /** True when the context opened the connection (and so closes it). */
  readonly ownsConnection: boolean;

  private currentState: RedisKitState = 'connecting';
  private degradedByTimeouts = false;
  private timeoutStreak = 0;
  private healthTimer: NodeJS.Timeout | undefined;
  private readonly throttled: ThrottledLog;
  private readonly failing = new Map<string, number>();
  private readonly detach: Array<() => void> = [];
  private readonly duplicates = new Set<RedisClient>();
  private evictionChecked = false;
  /** Connections corked by coalesceWrites() until the end of this event-loop turn. */
  private corked: Array<{ uncork(): void }> | undefined;

  constructor(options: RedisKitOptions) {
    assertKnownOptions(WHERE, options, KNOWN_OPTIONS);
    const given = (['url', 'sentinel', 'cluster', 'client'] as const).filter((k) => options[k] !== undefined);
    if (given.length === 0) {
      throw new RedisKitError(
        'ERR_REDISKIT_NO_CONNECTION',
        `${WHERE}: give one of url, sentinel, cluster or client`,
      );
    }
    if (given.length > 1) {
      throw new RedisKitError(
        'ERR_REDISKIT_INVALID_OPTION',
        `${WHERE}: give only one of url, sentinel, cluster or client; got ${given.join(' and ')}`,
        { details: { option: `${WHERE}.${given[1]}` } },
      );
    }
    this.options = Object.freeze({
      prefix: optString(WHERE, 'prefix', options.prefix, 'rk', { allowEmpty: false }),
      separator: optString(WHERE, 'separator', options.separator, ':'),
      maxKeyPartLength: optNumber(WHERE, 'maxKeyPartLength', options.maxKeyPartLength, 128, {
        integer: true,
        min: 48,
        max: 4096,
      }),
      operationTimeout: optNumber(WHERE, 'operationTimeout', options.operationTimeout, 100, {
        min: 1,
        max: 60_000,
      }),
      degradeAfterTimeouts: optNumber(WHERE, 'degradeAfterTimeouts', options.degradeAfterTimeouts, 5, {
        integer: true,
        min: 0,
      }),
      healthCheckInterval: optNumber(WHERE, 'healthCheckInterval', options.healthCheckInterval, 1000, {
        min: 10,
      }),
      logInterval: optNumber(WHERE, 'logInterval', options.logInterval, 30_000, { min: 0 }),
    });
    if (options.logger !== undefined && options.logger !== false) {
      const l = options.logger as Partial<RedisKitLogger> | null;
      if (!l || typeof l.warn !== 'function' || typeof l.error !== 'function') {
        throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${WHERE}.logger must have warn() and error(), or be false`, {
          details: { option: `${WHERE}.logger` },
        });
      }
    }
    if (
      options.validations !== undefined &&
      typeof options.validations !== 'boolean' &&
      (typeof options.validations !== 'object' || options.validations === null)
    ) {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${WHERE}.validations must be a boolean or an object`, {
        details: { option: `${WHERE}.validations` },
      });
    }
    this.logger = options.logger === false ? silentLogger : (options.logger ?? consoleLogger);
    this.keys = new KeySpace({
      prefix: this.options.prefix,
      separator: this.options.separator,
      maxPartLength: this.options.maxKeyPartLength,
    });
    this.throttled = new ThrottledLog(this.logger, this.options.logInterval);
    this.events = new RedisKitEvents((error, event) =>
      this.throttled.error(`listener:${event}`, `a listener of "${event}" threw: ${String(error)}`),
    );
    this.advisories = new Advisories(options.validations ?? true, this.logger, (name, message) =>
      this.events.emit('advisory', { name, message }),
    );

    if (options.client) {
      this.redis = options.client;
      this.ownsConnection = false;
      const clientOptions = (options.client as { options?: { keyPrefix?: string } }).options;
      if (clientOptions?.keyPrefix) {
        this.advisories.warn(
          'clientKeyPrefix',
          'the wrapped ioredis client has keyPrefix set; rediskit keys get both prefixes and key scans will not find them. Use the rediskit prefix option instead',
        );
      }
    } else {
      this.redis = this.open(options);
      this.ownsConnection = true;
    }
    this.watch(this.redis);
    if (this.isClientReady()) this.setState('ready');
    else if ((this.redis as Redis).status === 'wait') {
      (this.redis as Redis).connect().catch(() => {});
    }
  }

  private open(options: RedisKitOptions): RedisClient {
    const base = { ...failFastOptions(), ...(options.redisOptions ?? {}) };
    if (options.url !== undefined) {
      if (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url)) {
        throw new RedisKitError(
          'ERR_REDISKIT_INVALID_OPTION',
          `${WHERE}.url must start with redis:// or rediss://; got ${JSON.stringify(options.url)}`,
          { details: { option: `${WHERE}.url` } },
        );
      }
      return new Redis(options.url, base);
    }
    if (options.sentinel !== undefined) {
      const s = options.sentinel;
      if (!s || !Array.isArray(s.sentinels) || s.sentinels.length === 0 || typeof s.name !== 'string' || !s.name) {
        throw new RedisKitError(
          'ERR_REDISKIT_INVALID_OPTION',
          `${WHERE}.sentinel needs sentinels (a non-empty list of { host, port }) and name (the master group)`,
          { details: { option: `${WHERE}.sentinel` } },
        );
      }
      return new Redis({
        ...base,
        sentinels: s.sentinels.map(parseNode),
        name: s.name,
        ...(s.password !== undefined ? { password: s.password } : {}),
        ...(s.username !== undefined ? { username: s.username } : {}),
        ...(s.sentinelPassword !== undefined ? { sentinelPassword: s.sentinelPassword } : {}),
        ...(s.sentinelUsername !== undefined ? { sentinelUsername: s.sentinelUsername } : {}),
        ...(s.db !== undefined ? { db: s.db } : {}),
        // After a failover the old master may still accept writes for a moment;
        // reconnect to the new one when a command hits a read-only replica.
        reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false),
        // Reconnect as soon as the sentinels announce a new master instead of
        // writing to a demoted one until its connection drops.
        failoverDetector: true,
      });
    }
    const c = options.cluster!;
    if (!c || !Array.isArray(c.nodes) || c.nodes.length === 0) {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${WHERE}.cluster needs nodes (a non-empty list)`, {
        details: { option: `${WHERE}.cluster` },
      });
    }
    const { enableOfflineQueue: _q, autoResendUnfulfilledCommands: _a, maxRetriesPerRequest: _m, ...nodeOptions } = base;
    return new Cluster(c.nodes.map(parseNode), {
      enableOfflineQueue: false,
      enableReadyCheck: true,
      clusterRetryStrategy: (times: number) => Math.min(2000, 50 * 2 ** Math.min(times, 6)),
      retryDelayOnClusterDown: 50,
      retryDelayOnFailover: 50,
      retryDelayOnTryAgain: 50,
      ...(c.options ?? {}),
      redisOptions: { ...nodeOptions, ...(c.options?.redisOptions ?? {}) },
    });
  }

  private watch(client: RedisClient): void {
    const onReady = () => {
      this.degradedByTimeouts = false;
      this.timeoutStreak = 0;
      this.setState('ready');
    };
    const onLost = () => {
      if (this.currentState === 'ready') this.setState('degraded', { reason: 'connection-lost' });
    };
    const onError = (error: Error) => {
      this.throttled.error('connection', `Redis connection error: ${error.message}`);
    };
    client.on('ready', onReady);
    client.on('close', onLost);
    client.on('end', onLost);
    if (this.ownsConnection) client.on('error', onError);
    this.detach.push(() => {
      client.off('ready', onReady);
      client.off('close', onLost);
      client.off('end', onLost);
      if (this.ownsConnection) client.off('error', onError);
    });
  }

  private isClientReady(): boolean {
    return this.redis.status === 'ready';
  }

  private setState(next: RedisKitState, why?: { reason: 'connection-lost' | 'timeouts' | 'error'; error?: Error }): void {
    const previous = this.currentState;
    if (previous === next || previous === 'closed') return;
    this.currentState = next;
    if (next === 'ready') {
      this.stopHealthChecks();
      this.events.emit('ready', { previous });
      if (!this.evictionChecked) {
        this.evictionChecked = true;
        void this.checkEvictionPolicy().catch(() => {});
      }
    } else if (next === 'degraded') {
      this.throttled.error('state', `Redis degraded (${why?.reason ?? 'unknown'}); features apply their fail policy`);
      this.events.emit('degraded', why?.error ? { reason: why.reason, error: why.error } : { reason: why?.reason ?? 'error' });
      if (this.degradedByTimeouts) this.startHealthChecks();
    }
  }

  /** `connecting`, `ready`, `degraded` or `closed`. */
  get state(): RedisKitState {
    return this.currentState;
  }

  /** True when operations are sent to Redis (not short-circuited). */
  get available(): boolean {
    return this.currentState !== 'closed' && !this.degradedByTimeouts && this.isClientReady();
  }

  /**
   * Resolves once Redis answers (state `ready`); rejects with
   * ERR_REDISKIT_UNAVAILABLE after `timeoutMs`. Startup code awaits it; the
   * request path never needs to.
   */
  ready(timeoutMs = 10_000): Promise<void> {
    if (this.currentState === 'ready') return Promise.resolve();
    if (this.currentState === 'closed') return Promise.reject(new RedisKitError('ERR_REDISKIT_CLOSED'));
    return new Promise((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.events.off('ready', onReady);
        reject(new RedisKitError('ERR_REDISKIT_UNAVAILABLE', `Redis was not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      this.events.once('ready', onReady);
    });
  }

  /**
   * Runs one Redis operation under the operation timeout. Fails fast with
   * ERR_REDISKIT_UNAVAILABLE, without sending anything, while Redis is not
   * connected or the context is degraded; rejects with ERR_REDISKIT_TIMEOUT
   * when Redis does not answer in time, and with a coded error otherwise.
   *
   * The command leaves with the other commands sent in this event-loop turn,
   * in one socket write per connection (the connection is corked until
   * `setImmediate`), as node-redis does for every command: many concurrent
   * requests then cost one write system call, not one each, in the app and in
   * Redis (measured: app CPU per rate-limit decision down about 25%, Redis CPU
   * per decision down a third; `node bench/cpu.mjs rate-limit-hot`). Order on
   * the connection is unchanged and the timeout starts now. `coalesce: false`
   * writes at once (what ioredis alone does).
   *
   * @example
   * const n = await kit.exec((redis) => redis.incr(kit.keys.key('visits')));
   */
  exec<T>(
    operation: (redis: RedisClient) => Promise<T>,
    options: { timeout?: number; operation?: string; coalesce?: boolean } = {},
  ): Promise<T> {
    return this.runOperation(operation, options.operation ?? 'operation', options.timeout ?? this.options.operationTimeout, options.coalesce !== false);
  }

  /**
   * exec() without its options object: one promise and one timer per
   * operation (this runs for every request of every feature). The timer
   * rejects with ERR_REDISKIT_TIMEOUT; the command may still settle later,
   * and then changes nothing.
   */
  private runOperation<T>(operation: (redis: RedisClient) => Promise<T>, name: string, timeout: number, coalesce: boolean): Promise<T> {
    if (this.currentState === 'closed') return Promise.reject(new RedisKitError('ERR_REDISKIT_CLOSED', `${name}: the context is closed`));
    if (!this.available) {
      return Promise.reject(
        new RedisKitError('ERR_REDISKIT_UNAVAILABLE', `${name}: Redis is ${this.degradedByTimeouts ? 'not answering' : 'not connected'}; not sent`, {
          details: { operation: name },
        }),
      );
    }
    if (coalesce) this.coalesceWrites();
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(operation(this.redis));
    } catch (error) {
      return Promise.reject(toRedisKitError(error, name, name.startsWith('script ')));
    }
    // One timer and one promise per operation (no Promise.race): this runs on
    // every request. Whichever settles first wins; the other is ignored, and a
    // late rejection of the command is always handled.
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        this.noteTimeout();
        reject(
          new RedisKitError('ERR_REDISKIT_TIMEOUT', `${name}: no answer from Redis within ${timeout} ms`, {
            details: { operation: name, timeout },
          }),
        );
      }, timeout);
      pending.then(
        (value) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.timeoutStreak = 0;
          resolve(value);
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          const coded = toRedisKitError(error, name, name.startsWith('script '));
          if (coded.code === 'ERR_REDISKIT_TIMEOUT') this.noteTimeout();
          else if (coded.code !== 'ERR_REDISKIT_UNAVAILABLE') this.timeoutStreak = 0;
          reject(coded);
        },
      );
    });
  }

  /**
   * Corks the master connections until `setImmediate`, once per event-loop
   * turn, so the commands of this turn leave in one write per socket.
   */
  private coalesceWrites(): void {
    if (this.corked) return;
    const streams: Array<{ uncork(): void }> = [];
    const nodes = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    for (const node of nodes) {
      const stream = node.stream as { cork?: () => void; uncork(): void; writable?: boolean } | undefined;
      if (stream && typeof stream.cork === 'function' && stream.writable) {
        stream.cork();
        streams.push(stream);
      }
    }
    this.corked = streams;
    setImmediate(this.uncorkWrites);
  }

  private readonly uncorkWrites = (): void => {
    const streams = this.corked;
    this.corked = undefined;
    if (streams) for (const stream of streams) stream.uncork();
  };

  private noteTimeout(): void {
    this.timeoutStreak++;
    const limit = this.options.degradeAfterTimeouts;
    if (limit === 0 || this.timeoutStreak < limit || this.degradedByTimeouts) return;
    this.degradedByTimeouts = true;
    this.setState('degraded', { reason: 'timeouts' });
    this.startHealthChecks();
    if (this.ownsConnection) {
      // Commands already written wait in the client's queue for replies that
      // may never come; reconnecting rejects them and starts clean.
      this.redis.disconnect(true);
    }
  }

  private startHealthChecks(): void {
    if (this.healthTimer || this.currentState === 'closed') return;
    const probe = async () => {
      this.healthTimer = undefined;
      if (this.currentState === 'closed' || !this.degradedByTimeouts) return;
      if (this.isClientReady()) {
        try {
          await bounded(this.redis.ping(), Math.max(this.options.operationTimeout, 500));
          this.degradedByTimeouts = false;
          this.timeoutStreak = 0;
          this.setState('ready');
          return;
        } catch {
          // still not answering
        }
      }
      if (this.state !== 'closed' && this.degradedByTimeouts) {
        this.healthTimer = setTimeout(probe, this.options.healthCheckInterval);
        this.healthTimer.unref();
      }
    };
    this.healthTimer = setTimeout(probe, this.options.healthCheckInterval);
    this.healthTimer.unref();
  }

  private stopHealthChecks(): void {
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.healthTimer = undefined;
  }

  /**
   * Runs `fn` like {@link exec} and never throws: on failure it emits
   * `store-error`, logs at most once per `logInterval` for the feature, and
   * returns `{ ok: false, error, policy }` so the feature applies its policy.
   * The first success after failures emits `recovered`.
   *
   * @example
   * const r = await kit.attempt('cache', 'get', 'open', (redis) => redis.getBuffer(key));
   * if (!r.ok) return next(); // fail open: serve from the origin
   */
  async attempt<T>(
    feature: string,
    operation: string,
    policy: FailPolicy,
    fn: (redis: RedisClient) => Promise<T>,
    options: { timeout?: number } = {},
  ): Promise<Attempt<T>> {
    try {
      const value = await this.runOperation(fn, `${feature} ${operation}`, options.timeout ?? this.options.operationTimeout, true);
      this.noteSuccess(feature);
      return { ok: true, value };
    } catch (error) {
      const coded = toRedisKitError(error, `${feature} ${operation}`);
      this.noteFailure(feature, operation, policy, coded);
      return { ok: false, error: coded, policy };
    }
  }

  /**
   * The fail policy in one call: `open` returns `onOpen()` when Redis fails,
   * `closed` rethrows the coded error (adapters answer 503).
   *
   * @example
   * const allowed = await kit.guard('ratelimit', 'consume', 'open',
   *   (redis) => script.call(redis, keys, args), () => ALLOW);
   */
  async guard<T, F = T>(
    feature: string,
    operation: string,
    policy: FailPolicy,
    fn: (redis: RedisClient) => Promise<T>,
    onOpen: (error: RedisKitError) => F,
    options: { timeout?: number } = {},
  ): Promise<T | F> {
    const r = await this.attempt(feature, operation, policy, fn, options);
    if (r.ok) return r.value;
    if (policy === 'open') return onOpen(r.error);
    throw r.error;
  }

  /** Records a feature failure: event, counter, throttled log. For engines that run Redis work themselves. */
  noteFailure(feature: string, operation: string, policy: FailPolicy, error: RedisKitError): void {
    this.failing.set(feature, (this.failing.get(feature) ?? 0) + 1);
    this.events.emit('store-error', { feature, operation, policy, error });
    this.throttled.error(
      `feature:${feature}:${error.code}`,
      `${feature}: ${error.message} (fail ${policy}${policy === 'open' ? ': serving without Redis' : ': refusing'})`,
      { feature, code: error.code },
    );
  }

  /** Records a success; emits `recovered` after failures. */
  noteSuccess(feature: string): void {
    const failures = this.failing.get(feature);
    if (failures === undefined) return;
    this.failing.delete(feature);
    for (const topic of ['ERR_REDISKIT_UNAVAILABLE', 'ERR_REDISKIT_TIMEOUT']) this.throttled.reset(`feature:${feature}:${topic}`);
    this.logger.info?.(`${feature}: Redis answers again after ${failures} failed operations`);
    this.events.emit('recovered', { feature, failures });
  }

  /** Redis server time in milliseconds (from `TIME`), bounded by the operation timeout. */
  async time(): Promise<number> {
    const [s, us] = await this.exec((redis) => redis.time(), { operation: 'TIME' });
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  /** The master nodes: each Cluster master, or the one server. */
  masters(): Redis[] {
    return this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
  }

  /**
   * Iterates the keys matching `match` on every master (SCAN, so Redis stays
   * responsive); each key is yielded once. Each SCAN page is bounded by
   * `timeout` (default 10x the operation timeout). Not for the request path.
   */
  async *scan(match: string, options: { count?: number; timeout?: number } = {}): AsyncGenerator<string> {
    const count = options.count ?? 500;
    const timeout = options.timeout ?? this.options.operationTimeout * 10;
    for (const node of this.masters()) {
      let cursor = '0';
      do {
        if (this.currentState === 'closed') throw new RedisKitError('ERR_REDISKIT_CLOSED');
        let page: [string, string[]];
        try {
          page = await bounded(node.scan(cursor, 'MATCH', match, 'COUNT', count), timeout);
        } catch (error) {
          throw toRedisKitError(error, 'SCAN');
        }
        cursor = page[0];
        for (const key of page[1]) yield key;
      } while (cursor !== '0');
    }
  }

  /**
   * A new connection with the same settings, for blocking commands (XREADGROUP
   * BLOCK, BZPOPMIN) that must not hold up the shared one. Closed with the
   * context. On a wrapped client it is a `duplicate()` of that client.
   */
  duplicate(overrides: RedisOptions = {}): RedisClient {
    let client: RedisClient;
    if (this.redis instanceof Cluster) {
      client = this.redis.duplicate(undefined, { redisOptions: { ...this.redis.options.redisOptions, ...overrides } });
    } else {
      client = this.redis.duplicate(overrides);
    }
    client.on('error', (error: Error) => this.throttled.error('duplicate', `Redis connection error: ${error.message}`));
    this.duplicates.add(client);
    client.once('end', () => this.duplicates.delete(client));
    return client;
  }

  /**
   * Warns once (advisory `evictionPolicy`) when a master may evict keys that
   * must not vanish: `maxmemory` set and `maxmemory-policy` other than
   * `noeviction`. Skipped silently where CONFIG is not permitted.
   * Resolves to the policies seen, for tests and health pages.
   */
  async checkEvictionPolicy(): Promise<Array<{ node: string; policy: string; maxmemory: number }>> {
    if (!this.advisories.enabled('evictionPolicy')) return [];
    const seen: Array<{ node: string; policy: string; maxmemory: number }> = [];
    for (const node of this.masters()) {
      try {
        const [policyReply, memoryReply] = await Promise.all([
          bounded(node.config('GET', 'maxmemory-policy') as Promise<string[]>, 1000),
          bounded(node.config('GET', 'maxmemory') as Promise<string[]>, 1000),
        ]);
        const policy = policyReply[1] ?? 'unknown';
        const maxmemory = Number(memoryReply[1] ?? 0);
        seen.push({ node: `${node.options.host}:${node.options.port}`, policy, maxmemory });
        if (maxmemory > 0 && policy !== 'noeviction') {
          this.advisories.warn(
            'evictionPolicy',
            `Redis at ${node.options.host}:${node.options.port} has maxmemory-policy "${policy}" with maxmemory ${maxmemory}: under memory pressure it can evict locks, sessions and idempotency records, which breaks their guarantees. Use "noeviction", or a separate Redis for the cache`,
          );
        }
      } catch {
        // CONFIG is often disabled on managed Redis; the check is advisory.
      }
    }
    return seen;
  }

  /**
   * Stops health checks, detaches from the client, and closes the connections
   * this context opened (never a client passed in with `client`).
   */
  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.stopHealthChecks();
    this.currentState = 'closed';
    for (const off of this.detach.splice(0)) off();
    const toClose = [...this.duplicates];
    if (this.ownsConnection) toClose.push(this.redis);
    this.duplicates.clear();
    await Promise.all(
      toClose.map(async (client) => {
        try {
          await bounded(client.quit(), 1000);
        } catch {
          // not connected, or no answer: disconnect below is enough
        }
        // QUIT alone leaves a Sentinel connector's failover-detector
        // connections open; disconnect() tears every socket down.
        client.disconnect();
      }),
    );
    this.events.emit('closed', {});
    this.events.removeAllListeners();
  }
}

/** Rejects with ERR_REDISKIT_TIMEOUT if `promise` has not settled within `ms`. */
export function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisKitError('ERR_REDISKIT_TIMEOUT', `no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Creates the context an app shares between all rediskit features.
 *
 * @example
 * const kit = createRedisKit({ url: process.env.REDIS_URL, prefix: 'shop' });
 * await kit.ready();
 * app.use(cache(kit, { ttl: 60_000 }));
 */
/**
 * True for a context, also one made by another copy of @rediskit/core (the
 * CJS build beside the ESM one), which `instanceof` would miss. Adapters use
 * it to tell `(kit, options)` from `(options)`.
 */
export function isRedisKit(value: unknown): value is RedisKit {
  return typeof (value as RedisKit | undefined)?.exec === 'function' && typeof (value as RedisKit).duplicate === 'function';
}

export function createRedisKit(options: RedisKitOptions): RedisKit {
  return new RedisKit(options);
}
