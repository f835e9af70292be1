import { randomBytes } from 'node:crypto';
import { RedisKitError } from '../errors';
import { invalidOption, assertKnownOptions, optNumber } from '../options';
import type { RedisKit } from '../redis/redis-kit';
import { toRedisKitError } from '../redis/errors-map';
import { normalizeUrl } from './cache-key';
import { CacheStore, type CacheTarget, type EntryMeta, type LookupReply, type StoredEntry } from './cache-store';
import type { CacheEvents } from './events';
import { checkTag, resolveCacheOptions, type CacheOptions, type ResolvedCacheOptions } from './options';

/** What an in-process flight hands to the requests that joined it. */
export interface FlightResult {
  entry: StoredEntry;
  /** The variant the entry was stored under. */
  variant: string;
  /** Server time the entry was read or stored at. */
  now: number;
  stale: boolean;
}

interface Flight {
  promise: Promise<FlightResult | undefined>;
  resolve(result: FlightResult | undefined): void;
}

/** Options of {@link RedisCache.wrap} and {@link RedisCache.set}. Times in ms. */
export interface CacheValueOptions {
  /** Fresh for this long. Default: the engine's `defaults.ttl`; one of them is required. */
  ttl?: number;
  /** Tags for {@link RedisCache.purgeTags}. */
  tags?: readonly string[];
  /** Return a stale value at once while one background call refreshes it, this long past freshness. */
  staleWhileRevalidate?: number;
  /** Return a stale value when `fn` throws, this long past freshness. */
  staleIfError?: number;
}

const VALUE_KEYS = ['ttl', 'tags', 'staleWhileRevalidate', 'staleIfError'] as const;

const registry = new WeakMap<RedisKit, RedisCache>();

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Tokens of this process start with a random part; a counter makes them unique in it. */
const TOKEN_PREFIX = `${randomBytes(9).toString('base64url')}.`;
let tokens = 0;

/** A lock token no other caller holds (unique, not secret; no crypto call on the request path). */
export function newToken(): string {
  return TOKEN_PREFIX + (++tokens).toString(36);
}

/**
 * The cache engine of one context: HTTP responses (through the adapters'
 * `cache()` middleware) and application values (`wrap`, `get`, `set`,
 * `delete`), one tag space for both, purge, coalescing of concurrent misses
 * in the process and across instances, and fail-open behaviour.
 *
 * @example
 * const cache = createCache(kit, { defaults: { ttl: 60_000 } });
 * const product = await cache.wrap(`product:${id}`, () => db.product(id), { tags: [`product:${id}`] });
 * await cache.purgeTags([`product:${id}`]);
 */
export class RedisCache {
  readonly options: ResolvedCacheOptions;
  /** @internal Redis records and scripts. */
  readonly store: CacheStore;
  private readonly flights = new Map<string, Flight>();
  private readonly hints = new Map<string, readonly string[]>();
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    readonly kit: RedisKit,
    options: CacheOptions = {},
  ) {
    this.options = resolveCacheOptions('cache', options, kit.options.operationTimeout);
    this.store = new CacheStore(kit, this.options);
  }

  /**
   * The engine registered for `kit` by {@link createCache}, or one with
   * default options created on first use (the adapters' middleware and Nest
   * decorators use this).
   */
  static of(kit: RedisKit): RedisCache {
    let cache = registry.get(kit);
    if (!cache) {
      cache = new RedisCache(kit);
      registry.set(kit, cache);
    }
    return cache;
  }

  /** @internal Whether anyone listens to `event` (so a hot path can skip building its payload). */
  listens(event: keyof CacheEvents): boolean {
    return this.kit.events.listenerCount(event) > 0;
  }

  /** @internal */
  emit<K extends keyof CacheEvents>(event: K, payload: CacheEvents[K]): void {
    this.kit.events.emit(event, payload as never);
  }

  /** @internal Records a failed Redis operation: `store-error` and `cache:error` events, throttled log. */
  noteError(operation: string, error: unknown, key?: string): RedisKitError {
    const coded = toRedisKitError(error, `cache ${operation}`);
    this.kit.noteFailure('cache', operation, this.options.failPolicy, coded);
    this.emit('cache:error', key === undefined ? { operation, error: coded } : { key, operation, error: coded });
    return coded;
  }

  /** @internal */
  noteSuccess(): void {
    this.kit.noteSuccess('cache');
  }

  // ---------------------------------------------------------------- purge

  /**
   * Purges every entry (HTTP responses and values) carrying one of `tags`,
   * on every instance. Hard (default): they are misses from the moment this
   * resolves, and a fill that began before is not stored. `soft: true`: they
   * turn stale, served under stale-while-revalidate while one refresh runs.
   * Rejects (never claims success) when Redis fails: ERR_REDISKIT_CACHE_PURGE,
   * or ERR_REDISKIT_CACHE_TAG for a bad tag.
   *
   * @example
   * await cache.purgeTags(['product:42', 'products']);
   * await cache.purgeTags('products', { soft: true });
   */
  async purgeTags(tags: string | readonly string[], options: { soft?: boolean } = {}): Promise<void> {
    const list = (typeof tags === 'string' ? [tags] : [...tags]).map((t) => checkTag(t, 'purgeTags'));
    const soft = options.soft === true;
    try {
      await this.store.purgeTags(list, soft);
      this.noteSuccess();
    } catch (error) {
      const coded = this.noteError('purge', error);
      throw coded;
    }
    this.emit('cache:purge', { tags: list, soft });
  }

  /**
   * Purges the stored GET of one URL (path and query; `host` when the
   * routes use `keyHost`). Rejects when Redis fails.
   */
  async purgeUrl(url: string, options: { host?: string; soft?: boolean } = {}): Promise<void> {
    const target = this.store.target('h', httpKeyName(url, options.host));
    await this.purgeTarget(target, options.soft === true);
  }

  /** @internal */
  async purgeTarget(target: CacheTarget, soft: boolean): Promise<void> {
    try {
      await this.store.purgeTarget(target, soft);
      this.noteSuccess();
    } catch (error) {
      throw this.noteError('purge', error, target.name);
    }
    this.emit('cache:purge', { tags: [], soft });
  }

  // ----------------------------------------------------- in-process state

  /** @internal The vary list last seen for a URL. */
  varyHint(pk: string): readonly string[] | undefined {
    return this.hints.get(pk);
  }

  /** @internal */
  setVaryHint(pk: string, vary: readonly string[]): void {
    if (this.options.hintCacheSize === 0) return;
    this.hints.delete(pk);
    this.hints.set(pk, vary);
    if (this.hints.size > this.options.hintCacheSize) this.hints.delete(this.hints.keys().next().value!);
  }

  /** @internal The flight running for `key`, if any. */
  flight(key: string): Flight | undefined {
    return this.flights.get(key);
  }

  /** @internal Starts a flight others in the process can join; `finish` ends it. */
  startFlight(key: string): { finish(result: FlightResult | undefined): void } {
    let resolve!: (r: FlightResult | undefined) => void;
    const promise = new Promise<FlightResult | undefined>((r) => {
      resolve = r;
    });
    const flight: Flight = { promise, resolve };
    this.flights.set(key, flight);
    let done = false;
    return {
      finish: (result) => {
        if (done) return;
        done = true;
        if (this.flights.get(key) === flight) this.flights.delete(key);
        resolve(result);
      },
    };
  }

  /** @internal Waits for a flight at most `ms`; undefined on timeout or when it had nothing to share. */
  async joinFlight(flight: Flight, ms: number): Promise<FlightResult | undefined | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), ms);
    });
    try {
      return await Promise.race([flight.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** @internal Keeps background work (refreshes) reachable for {@link idle}. */
  track(work: Promise<unknown>): void {
    const p = work.catch(() => {}).finally(() => this.background.delete(p));
    this.background.add(p);
  }

  /** Resolves once the background refreshes started so far have finished (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  /**
   * @internal Polls while another caller holds the fill lock, until the
   * entry appears, the lock is free (the caller then holds it), or
   * `waitTimeout` passes. Redis errors end the wait (fail open).
   */
  async waitForFill(
    target: CacheTarget,
    vary: readonly string[],
    variant: string,
    token: string,
  ): Promise<LookupReply | 'timeout' | 'error'> {
    const deadline = Date.now() + this.options.waitTimeout;
    let delay = 10;
    while (Date.now() < deadline) {
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      delay = Math.min(delay * 1.5, 100);
      let reply: LookupReply;
      try {
        reply = await this.store.lookup(target, vary, variant, { token, mayLock: true });
      } catch (error) {
        this.noteError('lookup', error, target.name);
        return 'error';
      }
      if (reply.kind !== 'wait') return reply;
    }
    return 'timeout';
  }

  // ---------------------------------------------------------- cache-aside

  private valueOptions(where: string, options: CacheValueOptions | undefined) {
    assertKnownOptions(where, options, VALUE_KEYS);
    const o = options ?? {};
    const day = 365 * 24 * 3600_000;
    const ttl = optNumber(where, 'ttl', o.ttl, this.options.defaults.ttl, { min: 0, max: day, exclusiveMin: true });
    if (ttl === undefined) invalidOption(where, 'ttl', 'a number of ms > 0 (or set defaults.ttl on the cache)', ttl);
    let tags: string[] = [];
    if (o.tags !== undefined) {
      if (!Array.isArray(o.tags)) invalidOption(where, 'tags', 'a list of tags', o.tags);
      tags = o.tags.map((t) => checkTag(t, `${where}.tags`));
    }
    return {
      ttl,
      tags,
      staleWhileRevalidate: optNumber(where, 'staleWhileRevalidate', o.staleWhileRevalidate, this.options.defaults.staleWhileRevalidate, { min: 0, max: day }),
      staleIfError: optNumber(where, 'staleIfError', o.staleIfError, this.options.defaults.staleIfError, { min: 0, max: day }),
    };
  }

  private checkKey(where: string, key: unknown): string {
    if (typeof key !== 'string' || key.length === 0) invalidOption(where, 'key', 'a non-empty string', key);
    return key;
  }

  /**
   * The cached value of `key`, or undefined (missing, expired, purged, or
   * Redis failing). JSON values come back parsed; Buffers as Buffers.
   */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    const target = this.store.target('v', this.checkKey('cache.get', key));
    let reply: LookupReply;
    try {
      reply = await this.store.lookup(target, [], '-', { token: '', mayLock: false });
      this.noteSuccess();
    } catch (error) {
      this.noteError('lookup', error, key);
      return undefined;
    }
    if (reply.kind === 'hit' || reply.kind === 'stale') {
      this.emit(reply.kind === 'hit' ? 'cache:hit' : 'cache:stale', entryEvent(key, reply.entry, reply.now, reply.kind === 'stale' ? reply.reason : undefined) as never);
      return decodeValue<T>(reply.entry);
    }
    this.emit('cache:miss', { key, reason: 'uri-miss' });
    return undefined;
  }

  /**
   * Stores `value` (JSON-serializable or a Buffer) under `key`. Resolves
   * false when it was not stored (Redis failing, or a purge of one of its
   * tags raced it).
   */
  async set(key: string, value: unknown, options?: CacheValueOptions): Promise<boolean> {
    const o = this.valueOptions('cache.set', options);
    const target = this.store.target('v', this.checkKey('cache.set', key));
    let now: number;
    try {
      // The shard's own clock, the one the store script compares purge times with.
      now = (await this.store.lookup(target, [], '-', { token: '', mayLock: false })).now;
    } catch (error) {
      this.noteError('set', error, key);
      return false;
    }
    return (await this.storeValue(target, value, o, '', now, 0)) !== undefined;
  }

  /** Deletes `key` on every instance (and makes a fill of it that is under way not store). Rejects when Redis fails. */
  async delete(key: string): Promise<void> {
    await this.purgeTarget(this.store.target('v', this.checkKey('cache.delete', key)), false);
  }

  /**
   * Returns the cached value of `key`, or calls `fn` once (in this process
   * and across instances: concurrent callers wait for the first) and caches
   * what it returns. With Redis failing, `fn` is called (fail open).
   *
   * @example
   * const top = await cache.wrap('top-products', () => db.topProducts(), {
   *   ttl: 30_000, staleWhileRevalidate: 300_000, tags: ['products'],
   * });
   */
  async wrap<T>(key: string, fn: () => T | Promise<T>, options?: CacheValueOptions): Promise<T> {
    const o = this.valueOptions('cache.wrap', options);
    if (typeof fn !== 'function') invalidOption('cache.wrap', 'fn', 'a function', fn);
    const target = this.store.target('v', this.checkKey('cache.wrap', key));
    const flightKey = `v|${target.pk}`;
    const running = this.flight(flightKey);
    if (running) {
      const shared = await this.joinFlight(running, this.options.waitTimeout);
      if (shared !== 'timeout' && shared) {
        this.emit('cache:coalesced', { key, via: 'process', outcome: 'shared' });
        return decodeValue<T>(shared.entry) as T;
      }
      this.emit('cache:coalesced', { key, via: 'process', outcome: shared === 'timeout' ? 'timeout' : 'not-shared' });
    }
    const flight = this.startFlight(flightKey);
    let result: FlightResult | undefined;
    try {
      const out = await this.wrapLead<T>(target, fn, o);
      result = out.shared;
      return out.value;
    } finally {
      flight.finish(result);
    }
  }

  private async wrapLead<T>(
    target: CacheTarget,
    fn: () => T | Promise<T>,
    o: { ttl: number; tags: string[]; staleWhileRevalidate: number; staleIfError: number },
  ): Promise<{ value: T; shared?: FlightResult }> {
    const key = target.name;
    let token = newToken();
    let reply: LookupReply | 'timeout' | 'error';
    try {
      reply = await this.store.lookup(target, [], '-', { token, mayLock: true });
      this.noteSuccess();
    } catch (error) {
      const coded = this.noteError('lookup', error, key);
      if (this.options.failPolicy === 'closed') throw coded;
      return { value: await fn() };
    }
    if (reply.kind === 'wait') {
      const waited = await this.waitForFill(target, [], '-', token);
      if (waited === 'timeout' || waited === 'error') {
        this.emit('cache:coalesced', { key, via: 'redis', outcome: 'timeout' });
        this.emit('cache:miss', { key, reason: 'wait-timeout' });
        if (waited === 'error') return { value: await fn() };
        token = '';
        reply = { kind: 'none', now: reply.now };
      } else {
        if (waited.kind === 'hit' || waited.kind === 'stale') this.emit('cache:coalesced', { key, via: 'redis', outcome: 'shared' });
        reply = waited;
      }
    }
    if (reply.kind === 'hit' || reply.kind === 'stale') {
      const { entry, now } = reply;
      if (reply.kind === 'hit') this.emit('cache:hit', { key, age: now - entry.bornAt, ttl: entry.freshUntil - now, collapsed: false });
      else this.emit('cache:stale', { key, age: now - entry.bornAt, reason: reply.reason === 'soft-purge' ? 'soft-purge' : 'stale-while-revalidate' });
      if (reply.refresh) {
        const reason = reply.kind === 'hit' ? 'early' : reply.reason === 'soft-purge' ? 'soft-purge' : 'stale-while-revalidate';
        this.emit('cache:refresh', { key, reason });
        const started = Date.now();
        const bornAt = now;
        this.track(
          (async () => {
            let value: T;
            try {
              value = await fn();
            } catch {
              await this.store.release(target, '-', token, false).catch(() => {});
              return;
            }
            await this.storeValue(target, value, o, token, bornAt, Date.now() - started);
          })(),
        );
      }
      return { value: decodeValue<T>(entry) as T, shared: { entry, variant: '-', now, stale: reply.kind === 'stale' } };
    }
    if (reply.kind === 'vary') reply = { kind: 'none', now: reply.now };
    const lockToken = reply.kind === 'lead' ? token : '';
    if (token) this.emit('cache:miss', { key, reason: reply.kind === 'pass' ? 'pass' : 'uri-miss' });
    const bornAt = reply.now;
    const fallback = 'fallback' in reply ? reply.fallback : undefined;
    const started = Date.now();
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      if (lockToken) await this.store.release(target, '-', lockToken, false).catch(() => {});
      if (fallback) {
        this.emit('cache:stale', { key, age: reply.now - fallback.bornAt, reason: 'stale-if-error' });
        return { value: decodeValue<T>(fallback) as T };
      }
      throw error;
    }
    const stored = await this.storeValue(target, value, o, lockToken, bornAt, Date.now() - started);
    return { value, shared: stored };
  }

  /** Serializes and stores a value; never throws. */
  private async storeValue(
    target: CacheTarget,
    value: unknown,
    o: { ttl: number; tags: string[]; staleWhileRevalidate: number; staleIfError: number },
    token: string,
    bornAt: number,
    delta: number,
  ): Promise<FlightResult | undefined> {
    const key = target.name;
    let body: Buffer;
    let kind: 'json' | 'buffer';
    if (Buffer.isBuffer(value)) {
      body = value;
      kind = 'buffer';
    } else {
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch {
        json = undefined;
      }
      if (json === undefined) {
        this.emit('cache:uncacheable', { key, reason: 'error' });
        if (token) await this.store.release(target, '-', token, false).catch(() => {});
        return undefined;
      }
      body = Buffer.from(json, 'utf8');
      kind = 'json';
    }
    const meta: EntryMeta = { k: kind, v: [] };
    try {
      const outcome = await this.store.store(target, '-', {
        token,
        bornAt,
        freshMs: o.ttl,
        staleWhileRevalidateMs: o.staleWhileRevalidate,
        staleIfErrorMs: o.staleIfError,
        meta,
        body,
        tags: o.tags,
        delta,
      });
      this.noteSuccess();
      if (outcome !== 'stored') {
        this.emit('cache:uncacheable', { key, reason: outcome });
        return undefined;
      }
      this.emit('cache:store', { key, bytes: body.length, ttl: o.ttl, tags: o.tags });
      return { entry: { meta, body, bornAt, freshUntil: bornAt + o.ttl }, variant: '-', now: bornAt, stale: false };
    } catch (error) {
      this.noteError('store', error, key);
      return undefined;
    }
  }
}

function entryEvent(key: string, entry: StoredEntry, now: number, staleReason?: 'expired' | 'soft-purge') {
  if (staleReason) return { key, age: now - entry.bornAt, reason: staleReason === 'soft-purge' ? 'soft-purge' : 'stale-while-revalidate' };
  return { key, age: now - entry.bornAt, ttl: entry.freshUntil - now, collapsed: false };
}

function decodeValue<T>(entry: StoredEntry): T | undefined {
  if (entry.meta.k === 'buffer') return entry.body as unknown as T;
  try {
    return JSON.parse(entry.body.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The key name of an HTTP entry: the normalized URL, after `//host` when the host counts. */
export function httpKeyName(url: string, host?: string): string {
  const normalized = normalizeUrl(url);
  return host ? `//${host.toLowerCase()}${normalized}` : normalized;
}

/**
 * Creates the cache engine of `kit` and makes it the one the adapters'
 * middleware and decorators use. Throws ERR_REDISKIT_INVALID_OPTION /
 * ERR_REDISKIT_UNKNOWN_OPTION for bad options.
 *
 * @example
 * const cache = createCache(kit, { shards: 32, defaults: { ttl: 30_000, staleWhileRevalidate: 60_000 } });
 */
export function createCache(kit: RedisKit, options?: CacheOptions): RedisCache {
  const cache = new RedisCache(kit, options);
  registry.set(kit, cache);
  return cache;
}
