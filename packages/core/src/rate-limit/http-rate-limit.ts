import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { isRedisKitError, type RedisKitError } from '../errors';
import { unavailableProblem, type PlainResponse } from '../http';
import { assertKnownOptions, optBoolean, optEnum, optFunction, optNumber, optString } from '../options';
import type { RedisKit } from '../redis/redis-kit';
import { clientAddressKey } from './client-ip';
import { quotaExceededResponse, RateLimitHeaderWriter, type RateLimitHeaderFormat } from './headers';
import { POLICY_OPTIONS, type RateLimitPolicyOptions, type ResolvedPolicy } from './policy';
import {
  LIMITER_SETTING_OPTIONS,
  policiesFrom,
  RateLimiter,
  resolveLimiterSettings,
  type RateLimitDecision,
  type RateLimiterOptions,
  type ResolvedLimiterSettings,
} from './rate-limiter';
import { onResponseEnd } from './response-end';

type MaybePromise<T> = T | Promise<T>;

/** A key function: the client's identity for a request, or undefined/'' to leave the policy out for it. */
export type RateLimitKeyFn<TReq> = (req: TReq) => MaybePromise<string | undefined | null>;

/** A policy of an HTTP limiter; `key` counts it per something other than the limiter's key (per user, per API key). */
export interface HttpRateLimitPolicy<TReq = any> extends RateLimitPolicyOptions {
  key?: RateLimitKeyFn<TReq>;
}

/**
 * Options of the HTTP rate limiter behind `rateLimit()` (Express, Koa) and
 * `@RateLimit()` (NestJS). `TReq` is the framework's request: Express `req`,
 * Koa `ctx`, Nest's Express `req`.
 */
export interface HttpRateLimitOptions<TReq = any>
  extends Omit<RateLimiterOptions, 'name' | 'policies' | 'hashTag'> {
  /**
   * Names the limiter in keys and events. Default: `'<METHOD> <route template>'`
   * when the limiter runs on a route (so `/users/:id` is one bucket for all
   * ids), `'app'` when it runs app-wide. Limiters with the same name and
   * policy names share counters; name a limiter when two share a route.
   */
  name?: string;
  policies?: HttpRateLimitPolicy<TReq>[];
  /** The client's identity. Default its IP address as the framework sees it (`req.ip` / `ctx.ip`, which honour `trust proxy`). */
  key?: RateLimitKeyFn<TReq>;
  /** IPv6 clients are counted per network of this prefix length (1-128), `false` per full address. Default 56. */
  ipv6Subnet?: number | false;
  /** Count per route template when the route is known. Default true; false shares one bucket across routes. */
  perRoute?: boolean;
  /** Units a request costs (0 peeks without charging). Default 1. */
  cost?: number | ((req: TReq) => MaybePromise<number>);
  /** Leave a request out entirely (no Redis call, no headers) when this returns true. */
  skip?: (req: TReq) => MaybePromise<boolean>;
  /** Give the charge back when the response fails (status >= 400, or the client aborted). Default false. */
  skipFailedRequests?: boolean;
  /** Give the charge back when the response succeeds (status < 400). Default false. */
  skipSuccessfulRequests?: boolean;
  /** What counts as success for the two skip options. Default `status < 400`. */
  requestWasSuccessful?: (status: number) => boolean;
  /** Header fields: `'draft-11'` (default), `'draft-7'`, `'draft-6'` or false. */
  headers?: RateLimitHeaderFormat;
  /** Also send `X-RateLimit-Limit`, `-Remaining`, `-Reset`. Default false. */
  legacyHeaders?: boolean;
  /** Send the draft's partition key (`pk`): a truncated SHA-256 of the key (not a secret). Default false. */
  partitionKey?: boolean;
  /** The `detail` of the 429 problem. Default names the violated policies and the wait. */
  message?: string;
}

/**
 * What an adapter learns from the framework about one request. `ip`,
 * `forwardedFor` and `trustProxy` are read only by a limiter keyed by the
 * client address, so adapters supply them as getters (a class, see the
 * Express adapter) and pay for proxy-addr only when it is needed.
 */
export interface HttpRequestInfo<TReq> {
  /** The framework's request, handed to user callbacks. */
  req: TReq;
  /** Client address as the framework resolved it (trust proxy applied). */
  ip: string | undefined;
  method: string;
  /** Route template (`/users/:id`) when the limiter runs on a route. */
  route: string | undefined;
  /** True when the request carries X-Forwarded-For. */
  forwardedFor: boolean;
  /** The app's trust proxy setting, summarized. */
  trustProxy: 'all' | 'some' | 'none';
  res: ServerResponse;
  /** The client's identity when the adapter already knows it (a Nest guard hook); overrides `key` and the IP. */
  key?: string;
}

/** The adapter's instruction: carry on with these headers, or answer with this response. */
export type HttpRateLimitOutcome =
  | { action: 'next'; headers: Record<string, string>; decision?: RateLimitDecision }
  | { action: 'respond'; response: PlainResponse; decision?: RateLimitDecision; error?: RedisKitError };

const HTTP_OPTIONS = [
  'name',
  'policies',
  'key',
  'ipv6Subnet',
  'perRoute',
  'cost',
  'skip',
  'skipFailedRequests',
  'skipSuccessfulRequests',
  'requestWasSuccessful',
  'headers',
  'legacyHeaders',
  'partitionKey',
  'message',
  ...LIMITER_SETTING_OPTIONS,
  ...POLICY_OPTIONS.filter((o) => o !== 'name'),
] as const;

/** Options after validation; one frozen object per limiter. */
export interface ResolvedHttpRateLimitOptions<TReq> {
  readonly name: string | undefined;
  readonly policies: readonly ResolvedPolicy[];
  readonly policyKeys: ReadonlyMap<string, RateLimitKeyFn<TReq>>;
  readonly key: RateLimitKeyFn<TReq> | undefined;
  readonly ipv6Subnet: number | false;
  readonly perRoute: boolean;
  readonly cost: number | ((req: TReq) => MaybePromise<number>);
  readonly skip: ((req: TReq) => MaybePromise<boolean>) | undefined;
  readonly skipFailedRequests: boolean;
  readonly skipSuccessfulRequests: boolean;
  readonly requestWasSuccessful: (status: number) => boolean;
  readonly headers: RateLimitHeaderFormat;
  readonly legacyHeaders: boolean;
  readonly partitionKey: boolean;
  readonly message: string | undefined;
  readonly settings: ResolvedLimiterSettings;
}

/**
 * Validates HTTP rate-limit options (throws coded RedisKitErrors), so a bad
 * configuration fails when the app is built, not on the first request.
 *
 * @example
 * const resolved = resolveHttpRateLimitOptions({ algorithm: 'gcra', limit: 10, window: 1000 });
 * const http = new HttpRateLimit(kit, resolved);
 */
export function resolveHttpRateLimitOptions<TReq>(options: HttpRateLimitOptions<TReq>, where = 'rateLimit'): ResolvedHttpRateLimitOptions<TReq> {
  assertKnownOptions(where, options, HTTP_OPTIONS);
  const o = (options ?? {}) as unknown as Record<string, unknown>;
  const policies = policiesFrom(where, o, ['key']);
  const policyKeys = new Map<string, RateLimitKeyFn<TReq>>();
  if (Array.isArray(o.policies)) {
    o.policies.forEach((p: unknown, i) => {
      const key = optFunction<RateLimitKeyFn<TReq>>(`${where}.policies[${i}]`, 'key', (p as { key?: unknown }).key, undefined);
      if (key) policyKeys.set(policies[i]!.name, key);
    });
  }
  let ipv6Subnet: number | false = 56;
  if (o.ipv6Subnet === false) ipv6Subnet = false;
  else ipv6Subnet = optNumber(where, 'ipv6Subnet', o.ipv6Subnet, 56, { integer: true, min: 1, max: 128 });
  let cost: number | ((req: TReq) => MaybePromise<number>) = 1;
  if (typeof o.cost === 'function') cost = o.cost as (req: TReq) => MaybePromise<number>;
  else cost = optNumber(where, 'cost', o.cost, 1, { integer: true, min: 0 });
  const headers = o.headers === false ? false : optEnum(where, 'headers', o.headers, ['draft-11', 'draft-7', 'draft-6'] as const, 'draft-11');
  const skipFailedRequests = optBoolean(where, 'skipFailedRequests', o.skipFailedRequests, false);
  const skipSuccessfulRequests = optBoolean(where, 'skipSuccessfulRequests', o.skipSuccessfulRequests, false);
  return Object.freeze({
    name: optString(where, 'name', o.name, undefined),
    policies: Object.freeze(policies),
    policyKeys,
    key: optFunction<RateLimitKeyFn<TReq>>(where, 'key', o.key, undefined),
    ipv6Subnet,
    perRoute: optBoolean(where, 'perRoute', o.perRoute, true),
    cost,
    skip: optFunction<(req: TReq) => MaybePromise<boolean>>(where, 'skip', o.skip, undefined),
    skipFailedRequests,
    skipSuccessfulRequests,
    requestWasSuccessful: optFunction<(status: number) => boolean>(where, 'requestWasSuccessful', o.requestWasSuccessful, (s: number) => s < 400),
    headers,
    legacyHeaders: optBoolean(where, 'legacyHeaders', o.legacyHeaders, false),
    partitionKey: optBoolean(where, 'partitionKey', o.partitionKey, false),
    message: optString(where, 'message', o.message, undefined),
    settings: resolveLimiterSettings(where, o),
  });
}

function toLimiterPolicy(p: ResolvedPolicy): RateLimitPolicyOptions {
  const base: RateLimitPolicyOptions = { name: p.name, algorithm: p.algorithm, limit: p.limit, blockDuration: p.blockDuration };
  if (p.algorithm === 'concurrency') return { ...base, retryAfter: p.burst };
  if (p.algorithm === 'token-bucket' || p.algorithm === 'gcra') return { ...base, window: p.window, burst: p.burst };
  return { ...base, window: p.window };
}

/**
 * The framework-free HTTP rate limiter every adapter wraps: from what the
 * adapter tells it about a request, it decides (one Redis round trip),
 * builds the headers or the 429/503 problem response, and arranges the
 * refund of skipped responses and the release of concurrency leases when
 * the response ends.
 *
 * @example
 * const http = new HttpRateLimit(kit, resolveHttpRateLimitOptions({ limit: 100, window: 60_000 }));
 * const outcome = await http.handle({ req, ip: req.ip, method: req.method, route, forwardedFor, trustProxy, res });
 */
export class HttpRateLimit<TReq = any> {
  private readonly limiters = new Map<string, RateLimiter>();
  // Per request: the limiter of a route and method is found without building its name.
  private readonly byRoute = new Map<string, Map<string, RateLimiter>>();
  private fixedLimiter: RateLimiter | undefined;
  private readonly ipKeyed: boolean;
  /** No policy has a key of its own: every policy counts the limiter's key. */
  private readonly sharedKey: boolean;
  /** Headers of requests to which every policy applies. */
  private readonly headers: RateLimitHeaderWriter | undefined;
  private readonly hasLease: boolean;

  constructor(
    readonly kit: RedisKit,
    readonly options: ResolvedHttpRateLimitOptions<TReq>,
  ) {
    this.ipKeyed = !options.key && options.policies.some((p) => !options.policyKeys.has(p.name));
    this.sharedKey = options.policyKeys.size === 0;
    this.hasLease = options.policies.some((p) => p.algorithm === 'concurrency');
    this.headers = options.headers === false && !options.legacyHeaders ? undefined : new RateLimitHeaderWriter(options.policies, options.headers, options.legacyHeaders);
  }

  /** The limiter for one name (route), made on first use and reused. */
  limiter(name: string): RateLimiter {
    let limiter = this.limiters.get(name);
    if (!limiter) {
      this.adviseOnSharedName(name);
      const o = this.options;
      const s = o.settings;
      limiter = new RateLimiter(this.kit, {
        name,
        policies: o.policies.map(toLimiterPolicy),
        failPolicy: s.failPolicy,
        localShare: s.localShare,
        shadow: s.shadow,
        countRejected: s.countRejected,
        blockCache: s.blockCacheKeys > 0 ? { maxKeys: s.blockCacheKeys } : false,
        leaseTtl: s.leaseTtl,
        nearLimitRatio: s.nearLimitRatio,
        hashTag: o.policyKeys.size > 0 ? 'limiter' : 'key',
        ...(s.timeout !== undefined ? { timeout: s.timeout } : {}),
      });
      this.limiters.set(name, limiter);
    }
    return limiter;
  }

  /** The limiter of a request: by {@link nameFor}, looked up by route and method. */
  private limiterOf(info: Pick<HttpRequestInfo<TReq>, 'method' | 'route'>): RateLimiter {
    const route = info.route;
    if (this.options.name || !this.options.perRoute || !route) return (this.fixedLimiter ??= this.limiter(this.nameFor(info)));
    let methods = this.byRoute.get(route);
    if (!methods) {
      methods = new Map();
      this.byRoute.set(route, methods);
    }
    let limiter = methods.get(info.method);
    if (!limiter) {
      limiter = this.limiter(this.nameFor(info));
      methods.set(info.method, limiter);
    }
    return limiter;
  }

  private adviseOnSharedName(name: string): void {
    let names = limitersByName.get(this.kit);
    if (!names) {
      names = new Map();
      limitersByName.set(this.kit, names);
    }
    const other = names.get(name);
    if (!other) {
      names.set(name, this);
      return;
    }
    const clash = this.options.policies.find((p) =>
      other.options.policies.some((q) => q.name === p.name && q.algorithm === p.algorithm),
    );
    if (clash) {
      this.kit.advisories.warn(
        'rateLimitName',
        `two rate limiters are both named "${name}" with a "${clash.name}" ${clash.algorithm} policy: they count in one bucket and charge each request twice. Give each limiter its own name option`,
      );
    }
  }

  /** The limiter name of a request: the configured name, else method and route template, else `'app'`. */
  nameFor(info: Pick<HttpRequestInfo<TReq>, 'method' | 'route'>): string {
    if (this.options.name) return this.options.name;
    if (this.options.perRoute && info.route) {
      // Frameworks answer HEAD with the GET route: one bucket, not a second budget.
      const method = info.method.toUpperCase();
      return `${method === 'HEAD' ? 'GET' : method} ${info.route}`;
    }
    return 'app';
  }

  private adviseOnProxies(info: HttpRequestInfo<TReq>): void {
    const advisories = this.kit.advisories;
    if (info.trustProxy === 'all') {
      advisories.warn(
        'trustProxy',
        'rate limiting by client IP while the app trusts every proxy (trust proxy: true / Koa proxy without maxIpsCount): any client can pick its own address with X-Forwarded-For and dodge its limit. Trust only your own proxies (a hop count or their addresses)',
      );
    } else if (info.trustProxy === 'none' && info.forwardedFor) {
      advisories.warn(
        'xForwardedFor',
        'a request carries X-Forwarded-For but the app does not trust proxies, so every client behind the proxy shares one rate limit (the proxy\'s address). Set trust proxy to your proxy hops or addresses',
      );
    }
  }

  /** Decides one request; never throws for Redis trouble (the fail policy decides), only for bugs in user callbacks. */
  async handle(info: HttpRequestInfo<TReq>): Promise<HttpRateLimitOutcome> {
    const o = this.options;
    // User callbacks may be sync or async; a sync answer is used without a wait.
    if (o.skip) {
      const skip = o.skip(info.req);
      if (isThenable(skip) ? await skip : skip) return { action: 'next', headers: {} };
    }
    if (this.ipKeyed && info.key === undefined) this.adviseOnProxies(info);

    let baseKey: string | undefined;
    if (info.key !== undefined) {
      baseKey = info.key === '' ? undefined : info.key;
    } else if (o.key) {
      const found = o.key(info.req);
      const k = isThenable(found) ? await found : found;
      baseKey = k === undefined || k === null || k === '' ? undefined : String(k);
    } else {
      baseKey = clientAddressKey(info.ip || 'unknown', o.ipv6Subnet);
    }
    let active: readonly ResolvedPolicy[] = o.policies;
    let identities: Record<string, string> | undefined;
    if (this.sharedKey) {
      if (baseKey === undefined) return { action: 'next', headers: {} };
    } else {
      identities = {};
      const chosen: ResolvedPolicy[] = [];
      for (const p of o.policies) {
        const fn = o.policyKeys.get(p.name);
        let id: string | undefined = baseKey;
        if (fn) {
          const found = fn(info.req);
          const k = isThenable(found) ? await found : found;
          id = k === undefined || k === null || k === '' ? undefined : String(k);
        }
        if (id === undefined) continue;
        identities[p.name] = id;
        chosen.push(p);
      }
      if (chosen.length === 0) return { action: 'next', headers: {} };
      active = chosen.length === o.policies.length ? o.policies : chosen;
    }

    let cost = o.cost;
    if (typeof cost === 'function') {
      const found = cost(info.req);
      cost = isThenable(found) ? await found : found;
    }
    const limiter = this.limiterOf(info);
    const key = limiter.hashTag === 'limiter' ? identities! : baseKey!;
    let decision: RateLimitDecision;
    try {
      decision = await limiter.consume(key, { cost, policies: active === o.policies ? undefined : active.map((p) => p.name) });
    } catch (error) {
      if (isRedisKitError(error) && o.settings.failPolicy === 'closed' && error.code !== 'ERR_REDISKIT_INVALID_OPTION') {
        return { action: 'respond', response: unavailableProblem('rate limiting', 1), error };
      }
      throw error;
    }

    const pk = o.partitionKey ? partitionKeyOf(limiter.name, typeof key === 'string' ? key : Object.values(key).join('\n')) : undefined;
    let headers: Record<string, string>;
    if (this.headers) {
      const writer = active === o.policies ? this.headers : new RateLimitHeaderWriter(active, o.headers, o.legacyHeaders);
      headers = writer.write(decision, pk);
    } else {
      // headers: false still answers a rejection with Retry-After.
      headers = decision.allowed ? {} : new RateLimitHeaderWriter(active, false, false).write(decision);
    }
    if (!decision.allowed) {
      return { action: 'respond', response: quotaExceededResponse(decision, headers, o.message), decision };
    }
    if (o.skipFailedRequests || o.skipSuccessfulRequests || (active === o.policies ? this.hasLease : active.some((p) => p.algorithm === 'concurrency'))) {
      onResponseEnd(info.res, ({ status, aborted }) => {
        const ok = !aborted && o.requestWasSuccessful(status);
        const refund = (o.skipFailedRequests && !ok) || (o.skipSuccessfulRequests && ok);
        void limiter.settle(decision, { refund, release: true });
      });
    }
    return { action: 'next', headers, decision };
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

// Which HTTP limiter first claimed a limiter name on a context, to warn about two sharing one.
const limitersByName = new WeakMap<RedisKit, Map<string, HttpRateLimit>>();

/** A partition key that names the bucket without disclosing the client's key: 12 bytes of SHA-256. */
function partitionKeyOf(limiter: string, key: string): Uint8Array {
  return createHash('sha256').update(limiter).update('\n').update(key).digest().subarray(0, 12);
}

/**
 * Validates options now and returns a factory that binds them to a context
 * later (adapters get the context from the app on the first request).
 *
 * @example
 * const make = prepareHttpRateLimit({ limit: 100, window: 60_000 });
 * const http = make(kit);
 */
export function prepareHttpRateLimit<TReq>(options: HttpRateLimitOptions<TReq>, where = 'rateLimit'): (kit: RedisKit) => HttpRateLimit<TReq> {
  const resolved = resolveHttpRateLimitOptions(options, where);
  const byKit = new WeakMap<RedisKit, HttpRateLimit<TReq>>();
  return (kit) => {
    let http = byKit.get(kit);
    if (!http) {
      http = new HttpRateLimit(kit, resolved);
      byKit.set(kit, http);
    }
    return http;
  };
}
