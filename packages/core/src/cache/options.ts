import { RedisKitError } from '../errors';
import {
  assertKnownOptions,
  invalidOption,
  optBoolean,
  optEnum,
  optFunction,
  optNumber,
  optString,
} from '../options';
import type { FailPolicy } from '../redis/fail-policy';

/** What a tag function sees of the response: its status and a header getter. */
export interface CacheResponseInfo {
  readonly status: number;
  /** The header's values joined by `, `, or undefined. */
  header(name: string): string | undefined;
}

/**
 * Options of one cached route (or of every route, as `defaults`). `S` is what
 * the adapter hands to the functions: Express `req`, Koa `ctx`, Nest `req`.
 */
export interface CacheRouteOptions<S = unknown> {
  /**
   * How long a response stays fresh, in ms, when it says nothing itself
   * (`s-maxage`, `max-age` or `Expires` win). Without it, only responses
   * with explicit freshness are stored. Default: none.
   */
  ttl?: number;
  /** Serve a stale response at once while one background refresh runs, for this many ms past freshness (RFC 5861). The response's own `stale-while-revalidate` wins. Default 0. */
  staleWhileRevalidate?: number;
  /** Serve a stale response when the origin fails (5xx or an error), for this many ms past freshness. The response's own `stale-if-error` wins. Default 0. */
  staleIfError?: number;
  /** With a stale copy usable under stale-if-error, serve it when the origin has not begun its response within this many ms (the origin's late answer is discarded). Default: none. */
  staleIfErrorTimeout?: number;
  /** Tags for purging: a list, or a function of the request and response. Added to tags from `tagHeaders` and `addCacheTags()`. */
  tags?: readonly string[] | ((subject: S, response: CacheResponseInfo) => readonly string[] | undefined | null);
  /** Request headers the entry also varies on (added to the response's `Vary`). Default none. */
  vary?: readonly string[];
  /** Statuses stored with `ttl` or explicit freshness. Default 200, 203, 204, 300, 301. */
  statuses?: readonly number[];
  /** Statuses stored only when the response itself gives freshness. Default 404. */
  explicitStatuses?: readonly number[];
  /** Largest body stored, in bytes; a larger response is sent but never stored or buffered past this. Default 1 MiB. */
  maxBodySize?: number;
  /** Share responses to requests with `Authorization` even without `public`/`s-maxage`. Default false. */
  shareAuthorized?: boolean;
  /** Response headers that carry tags (`Cache-Tag` comma-separated, `Surrogate-Key` space-separated); false for none. Default both. */
  tagHeaders?: readonly string[] | false;
  /** Keep the tag headers on the response the client gets. Default false (removed). */
  exposeTagHeaders?: boolean;
  /** Header that says what the cache did: RFC 9211 `Cache-Status`, `X-Cache` (`HIT`/`MISS`/`STALE`/`BYPASS`), or false. Default `'cache-status'`. */
  statusHeader?: 'cache-status' | 'x-cache' | false;
  /** Include the `Host` header in the key (one app serving several hosts). Default false. */
  keyHost?: boolean;
  /** Replaces the URL part of the key (path and query). Default: the path and the query sorted by name. */
  key?: (subject: S) => string;
  /** Return true to skip the cache for this request. */
  bypass?: (subject: S) => boolean;
  /** A 2xx answer to POST, PUT, PATCH or DELETE purges the stored GET of the same URL (and of `Location`/`Content-Location`). Default true. */
  invalidateOnMutation?: boolean;
}

/** Route options after defaults. */
export interface ResolvedRouteOptions<S = unknown> {
  readonly ttl: number | undefined;
  readonly staleWhileRevalidate: number;
  readonly staleIfError: number;
  readonly staleIfErrorTimeout: number | undefined;
  readonly tags: CacheRouteOptions<S>['tags'];
  readonly vary: readonly string[];
  readonly statuses: ReadonlySet<number>;
  readonly explicitStatuses: ReadonlySet<number>;
  readonly maxBodySize: number;
  readonly shareAuthorized: boolean;
  readonly tagHeaders: readonly string[];
  readonly exposeTagHeaders: boolean;
  readonly statusHeader: 'cache-status' | 'x-cache' | false;
  readonly keyHost: boolean;
  readonly key: ((subject: S) => string) | undefined;
  readonly bypass: ((subject: S) => boolean) | undefined;
  readonly invalidateOnMutation: boolean;
}

/** Options of {@link createCache}: the engine shared by every cached route and by `wrap`. */
export interface CacheOptions {
  /**
   * How many hash slots the cache spreads over. Each shard keeps its entries
   * and a copy of the tag records it needs, so every decision is one script
   * in one slot; a purge runs once per shard. Every instance must use the
   * same value. Default 16.
   */
  shards?: number;
  /** Lifetime of the fill lock that makes one request fetch a missing entry, in ms. Default 5000. */
  lockTtl?: number;
  /** Longest a request waits for another instance's fill before going to the origin itself, in ms. Default 5000. */
  waitTimeout?: number;
  /** After a response that could not be stored, how long requests for that URL skip the lock and go straight to the origin, in ms. Default 5000. */
  passTtl?: number;
  /** Longest fill whose result is still stored, in ms; purge times are kept this long. Default 60000. */
  fillHorizon?: number;
  /** Probabilistic early refresh (XFetch): higher refreshes earlier; 0 turns it off. Default 1. */
  beta?: number;
  /** Longest a response's end waits for its entry to be stored, in ms. Default: the context's `operationTimeout`. */
  storeTimeout?: number;
  /** `open` (default): with Redis failing, requests go to the origin. `closed`: they get 503. */
  failPolicy?: FailPolicy;
  /** Name in `Cache-Status`. Default `'rediskit'`. */
  cacheName?: string;
  /** How many URLs' vary lists are remembered in process (saves a round trip per hit). Default 10000. */
  hintCacheSize?: number;
  /** Defaults of every cached route and of `wrap`/`set` (`ttl`, `staleWhileRevalidate`, ...). */
  defaults?: CacheRouteOptions<any>;
}

/** Engine options after defaults. */
export interface ResolvedCacheOptions {
  readonly shards: number;
  readonly lockTtl: number;
  readonly waitTimeout: number;
  readonly passTtl: number;
  readonly fillHorizon: number;
  readonly beta: number;
  readonly storeTimeout: number;
  readonly failPolicy: FailPolicy;
  readonly cacheName: string;
  readonly hintCacheSize: number;
  readonly defaults: ResolvedRouteOptions<any>;
}

const ENGINE_KEYS = [
  'shards',
  'lockTtl',
  'waitTimeout',
  'passTtl',
  'fillHorizon',
  'beta',
  'storeTimeout',
  'failPolicy',
  'cacheName',
  'hintCacheSize',
  'defaults',
] as const;

const ROUTE_KEYS = [
  'ttl',
  'staleWhileRevalidate',
  'staleIfError',
  'staleIfErrorTimeout',
  'tags',
  'vary',
  'statuses',
  'explicitStatuses',
  'maxBodySize',
  'shareAuthorized',
  'tagHeaders',
  'exposeTagHeaders',
  'statusHeader',
  'keyHost',
  'key',
  'bypass',
  'invalidateOnMutation',
] as const;

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MAX_TAG_BYTES = 1024;

/** Throws ERR_REDISKIT_CACHE_TAG unless `tag` is a usable tag; returns it. */
export function checkTag(tag: unknown, where = 'cache'): string {
  if (typeof tag !== 'string' || tag.length === 0 || Buffer.byteLength(tag) > MAX_TAG_BYTES || /[\u0000-\u001f\u007f]/.test(tag)) {
    let shown: string;
    try {
      shown = JSON.stringify(tag) ?? String(tag);
    } catch {
      shown = String(tag);
    }
    throw new RedisKitError(
      'ERR_REDISKIT_CACHE_TAG',
      `${where}: a tag must be a non-empty string of at most ${MAX_TAG_BYTES} bytes without control characters; got ${shown}`,
      { details: { tag } },
    );
  }
  return tag;
}

function statusList(where: string, name: string, value: unknown, fallback: readonly number[]): ReadonlySet<number> {
  if (value === undefined) return new Set(fallback);
  if (!Array.isArray(value) || value.some((s) => !Number.isInteger(s) || s < 200 || s > 599)) {
    invalidOption(where, name, 'a list of status codes from 200 to 599', value);
  }
  return new Set(value as number[]);
}

function headerList(where: string, name: string, value: unknown, fallback: readonly string[]): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.some((h) => typeof h !== 'string' || !HEADER_NAME.test(h))) {
    invalidOption(where, name, 'a list of header names', value);
  }
  return Object.freeze([...new Set((value as string[]).map((h) => h.toLowerCase()))].sort());
}

const ROUTE_FALLBACK: ResolvedRouteOptions = Object.freeze({
  ttl: undefined,
  staleWhileRevalidate: 0,
  staleIfError: 0,
  staleIfErrorTimeout: undefined,
  tags: undefined,
  vary: Object.freeze([]),
  statuses: new Set([200, 203, 204, 300, 301]),
  explicitStatuses: new Set([404]),
  maxBodySize: 1 << 20,
  shareAuthorized: false,
  tagHeaders: Object.freeze(['cache-tag', 'surrogate-key']),
  exposeTagHeaders: false,
  statusHeader: 'cache-status',
  keyHost: false,
  key: undefined,
  bypass: undefined,
  invalidateOnMutation: true,
});

/**
 * Validates route options over `base` (the engine defaults) and freezes the
 * result. Throws ERR_REDISKIT_INVALID_OPTION / ERR_REDISKIT_UNKNOWN_OPTION.
 */
export function resolveRouteOptions<S>(
  where: string,
  options: CacheRouteOptions<S> | undefined,
  base: ResolvedRouteOptions<any> = ROUTE_FALLBACK,
): ResolvedRouteOptions<S> {
  assertKnownOptions(where, options, ROUTE_KEYS);
  const o: CacheRouteOptions<S> = options ?? {};
  const day = 365 * 24 * 3600_000;
  const tags = o.tags;
  if (tags !== undefined && typeof tags !== 'function') {
    if (!Array.isArray(tags)) invalidOption(where, 'tags', 'a list of tags or a function', tags);
    for (const tag of tags) {
      try {
        checkTag(tag, `${where}.tags`);
      } catch {
        invalidOption(where, 'tags', 'a list of non-empty tags without control characters', tags);
      }
    }
  }
  let tagHeaders: readonly string[];
  if (o.tagHeaders === false) tagHeaders = Object.freeze([]);
  else tagHeaders = headerList(where, 'tagHeaders', o.tagHeaders, base.tagHeaders);
  const vary = headerList(where, 'vary', o.vary, base.vary);
  if (vary.includes('*')) invalidOption(where, 'vary', 'header names (not *)', o.vary);
  return Object.freeze({
    ttl: optNumber(where, 'ttl', o.ttl, base.ttl, { min: 0, max: day, exclusiveMin: true }),
    staleWhileRevalidate: optNumber(where, 'staleWhileRevalidate', o.staleWhileRevalidate, base.staleWhileRevalidate, {
      min: 0,
      max: day,
    }),
    staleIfError: optNumber(where, 'staleIfError', o.staleIfError, base.staleIfError, { min: 0, max: day }),
    staleIfErrorTimeout: optNumber(where, 'staleIfErrorTimeout', o.staleIfErrorTimeout, base.staleIfErrorTimeout, {
      min: 0,
      max: 3600_000,
      exclusiveMin: true,
    }),
    tags: tags === undefined ? base.tags : Array.isArray(tags) ? Object.freeze([...tags]) : tags,
    vary,
    statuses: statusList(where, 'statuses', o.statuses, [...base.statuses]),
    explicitStatuses: statusList(where, 'explicitStatuses', o.explicitStatuses, [...base.explicitStatuses]),
    maxBodySize: optNumber(where, 'maxBodySize', o.maxBodySize, base.maxBodySize, { integer: true, min: 0, max: 512 << 20 }),
    shareAuthorized: optBoolean(where, 'shareAuthorized', o.shareAuthorized, base.shareAuthorized),
    tagHeaders,
    exposeTagHeaders: optBoolean(where, 'exposeTagHeaders', o.exposeTagHeaders, base.exposeTagHeaders),
    statusHeader:
      o.statusHeader === false
        ? false
        : o.statusHeader === undefined
          ? base.statusHeader
          : optEnum(where, 'statusHeader', o.statusHeader, ['cache-status', 'x-cache'] as const, 'cache-status'),
    keyHost: optBoolean(where, 'keyHost', o.keyHost, base.keyHost),
    key: optFunction(where, 'key', o.key, base.key),
    bypass: optFunction(where, 'bypass', o.bypass, base.bypass),
    invalidateOnMutation: optBoolean(where, 'invalidateOnMutation', o.invalidateOnMutation, base.invalidateOnMutation),
  });
}

/** Validates engine options and freezes them with their defaults. */
export function resolveCacheOptions(
  where: string,
  options: CacheOptions | undefined,
  operationTimeout: number,
): ResolvedCacheOptions {
  assertKnownOptions(where, options, ENGINE_KEYS);
  const o = options ?? {};
  const lockTtl = optNumber(where, 'lockTtl', o.lockTtl, 5000, { integer: true, min: 10, max: 3600_000 });
  const fillHorizon = optNumber(where, 'fillHorizon', o.fillHorizon, 60_000, { integer: true, min: 100, max: 24 * 3600_000 });
  return Object.freeze({
    shards: optNumber(where, 'shards', o.shards, 16, { integer: true, min: 1, max: 1024 }),
    lockTtl,
    waitTimeout: optNumber(where, 'waitTimeout', o.waitTimeout, 5000, { min: 0, max: 3600_000 }),
    passTtl: optNumber(where, 'passTtl', o.passTtl, 5000, { integer: true, min: 1, max: 3600_000 }),
    fillHorizon,
    beta: optNumber(where, 'beta', o.beta, 1, { min: 0, max: 100 }),
    storeTimeout: optNumber(where, 'storeTimeout', o.storeTimeout, operationTimeout, { min: 1, max: 60_000 }),
    failPolicy: optEnum(where, 'failPolicy', o.failPolicy, ['open', 'closed'] as const, 'open'),
    cacheName: optString(where, 'cacheName', o.cacheName, 'rediskit', {
      pattern: /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/,
      describe: 'a token (letters, digits and !#$%&\'*+-.^_`|~:/, starting with a letter)',
    }),
    hintCacheSize: optNumber(where, 'hintCacheSize', o.hintCacheSize, 10_000, { integer: true, min: 0, max: 10_000_000 }),
    defaults: resolveRouteOptions(`${where}.defaults`, o.defaults),
  });
}
