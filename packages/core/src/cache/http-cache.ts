import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { problemResponse, unavailableProblem } from '../http/problem';
import { captureResponse, type CapturedResponse } from '../http/response-capture';
import type { RedisKit } from '../redis/redis-kit';
import { httpKeyName, newToken, RedisCache, type FlightResult } from './cache';
import { parseCacheControl } from './cache-control';
import { variantId } from './cache-key';
import { formatCacheStatus, formatHitStatus, type CacheStatusInfo } from './cache-status';
import type { CacheTarget, EntryMeta, LookupReply, StoredEntry } from './cache-store';
import { NOT_MODIFIED_HEADERS, notModified } from './conditional';
import type { CacheBypassReason, UncacheableReason } from './events';
import { injectRequest } from './inject';
import { planStore, type StorePlan } from './http-policy';
import { checkTag, resolveRouteOptions, type CacheResponseInfo, type CacheRouteOptions, type ResolvedRouteOptions } from './options';

/**
 * One request as an adapter hands it to the cache: the Node request and
 * response (Express, Koa and Nest on Express all have them), and the
 * framework's ways to continue.
 */
export interface HttpExchange<S> {
  req: IncomingMessage;
  res: ServerResponse;
  /** The URL (path and query) as the client sent it (`req.originalUrl`, `ctx.originalUrl`). */
  url: string;
  /** What the route's functions receive (`req`, `ctx`). */
  subject: S;
  /** Runs the rest of the app (the origin); resolves when the framework's chain has returned. */
  forward(): Promise<void>;
  /** Runs a request through the whole app, for background refreshes (Express app, Koa callback). */
  dispatch?: (req: IncomingMessage, res: ServerResponse) => unknown;
  /**
   * After `forward()`: the response as the app left it, when the framework
   * will not write it (Koa skips writing to a client that is gone), so a
   * fill still completes.
   */
  leftover?(): Promise<CapturedResponse | undefined>;
  /** Tags the handler added on the framework's own object (`res.locals.cacheTags`, `ctx.state.cacheTags`). */
  extraTags?(): readonly string[] | undefined;
  /** Called when the cache answered the request itself (Koa: `ctx.respond = false`). */
  served?(): void;
}

interface RefreshMarker {
  token: string;
  bornAt: number;
  variant: string;
}

const REFRESH = Symbol.for('rediskit.cache.refresh');
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CONDITIONAL = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range'];
const NOT_CACHED_TYPE = 'https://rediskit.dev/problems/not-cached';

const requestTags = new WeakMap<object, Set<string>>();
/**
 * Requests the cache has taken (a route cached twice is handled once). A set,
 * not a mark on the request: Express swaps the prototype of every request, and
 * adding a property to such an object costs microseconds.
 */
const handledRequests = new WeakSet<object>();

/**
 * Adds tags to the response being produced, from a handler, for purging it
 * later. The adapters export it for their request objects.
 *
 * @example
 * addCacheTags(res, `product:${product.id}`, `category:${product.categoryId}`);
 */
export function addCacheTags(res: ServerResponse, ...tags: Array<string | readonly string[]>): void {
  let set = requestTags.get(res);
  if (!set) {
    set = new Set();
    requestTags.set(res, set);
  }
  for (const t of tags.flat()) set.add(checkTag(t, 'addCacheTags'));
}

/** Tags added with {@link addCacheTags} so far. */
export function cacheTagsOf(res: ServerResponse): string[] {
  return [...(requestTags.get(res) ?? [])];
}

function header(headers: ReadonlyArray<readonly [string, string]>, name: string): string | undefined {
  const values = headers.filter(([n]) => n === name).map(([, v]) => v);
  return values.length ? values.join(', ') : undefined;
}

/** Sets `[name, value]` pairs on the response; a name that repeats is set once with all its values, in order. */
function setHeaderPairs(res: ServerResponse, pairs: ReadonlyArray<readonly [string, string]>): void {
  const n = pairs.length;
  next: for (let i = 0; i < n; i++) {
    const name = pairs[i]![0];
    for (let j = 0; j < i; j++) if (pairs[j]![0] === name) continue next;
    let values: string[] | undefined;
    for (let j = i + 1; j < n; j++) if (pairs[j]![0] === name) (values ??= [pairs[i]![1]]).push(pairs[j]![1]);
    res.setHeader(name, values ?? pairs[i]![1]);
  }
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/**
 * The HTTP response cache of one route (or app): the adapters' middleware,
 * Koa middleware and Nest interceptor are thin wrappers around
 * {@link HttpCache.handle}.
 */
export class HttpCache<S = unknown> {
  private readonly resolved = new WeakMap<RedisCache, ResolvedRouteOptions<S>>();

  /** Validates `options` now: bad options throw at construction. */
  constructor(
    private readonly where: string,
    private readonly options: CacheRouteOptions<S> | undefined,
  ) {
    resolveRouteOptions(where, options);
  }

  /** The route's options over the engine's defaults. */
  private routeFor(engine: RedisCache): ResolvedRouteOptions<S> {
    let r = this.resolved.get(engine);
    if (!r) {
      r = resolveRouteOptions(this.where, this.options, engine.options.defaults);
      this.resolved.set(engine, r);
    }
    return r;
  }

  /** Handles one request: serves it from the cache, or lets it through and stores the response. */
  async handle(kit: RedisKit, x: HttpExchange<S>): Promise<void> {
    const engine = RedisCache.of(kit);
    const route = this.routeFor(engine);
    // A route cached twice (a global interceptor and a decorator) is handled once.
    if (handledRequests.has(x.req)) return x.forward();
    handledRequests.add(x.req);
    return new Exchange(engine, route, x).run();
  }
}

/** One request through the cache. */
class Exchange<S> {
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;
  private readonly method: string;
  private target!: CacheTarget;
  private vary: readonly string[] = [];
  private variant = '-';
  private flight: { finish(result: FlightResult | undefined): void } | undefined;
  /** The request's headers before the fill removed its conditionals; copied when first needed (a hit does not). */
  private headersSnapshot: IncomingHttpHeaders | undefined;

  constructor(
    private readonly engine: RedisCache,
    private readonly route: ResolvedRouteOptions<S>,
    private readonly x: HttpExchange<S>,
  ) {
    this.req = x.req;
    this.res = x.res;
    this.method = (x.req.method ?? 'GET').toUpperCase();
  }

  private get originalHeaders(): IncomingHttpHeaders {
    return (this.headersSnapshot ??= { ...this.req.headers });
  }

  private keyName(): string {
    const url = this.route.key ? this.route.key(this.x.subject) : this.x.url;
    const host = this.route.keyHost ? String(this.req.headers.host ?? '') : undefined;
    return httpKeyName(url, host);
  }

  private setStatus(info: CacheStatusInfo): void {
    const kind = this.route.statusHeader;
    if (!kind || this.res.headersSent) return;
    this.res.setHeader(kind, formatCacheStatus(kind, this.engine.options.cacheName, info));
  }

  async run(): Promise<void> {
    const marker = (this.req as unknown as Record<symbol, RefreshMarker | undefined>)[REFRESH];
    if (this.method !== 'GET' && this.method !== 'HEAD') {
      this.setStatus({ hit: false, fwd: 'method' });
      if (this.route.invalidateOnMutation && UNSAFE.has(this.method)) this.invalidateOnSuccess();
      return this.x.forward();
    }
    try {
      this.target = this.engine.store.target('h', this.keyName());
    } catch {
      return this.bypass('route');
    }
    if (marker) {
      this.vary = this.engine.varyHint(this.target.pk) ?? this.route.vary;
      this.variant = marker.variant;
      return this.fill({ token: marker.token, bornAt: marker.bornAt, fwd: 'stale' });
    }
    const reason = this.bypassReason();
    if (reason) return this.bypass(reason);

    const requestCc = parseCacheControl(this.req.headers['cache-control']);
    const onlyIfCached = requestCc.onlyIfCached === true;
    const authorized = this.req.headers.authorization !== undefined && !this.route.shareAuthorized;
    const isGet = this.method === 'GET';
    const mayLead = isGet && !authorized && !onlyIfCached && !requestCc.noStore;

    this.vary = this.engine.varyHint(this.target.pk) ?? this.route.vary;
    this.variant = variantId(this.vary, this.req.headers);

    // Coalescing in the process: join a lookup or fill that is under way.
    const flightKey = `h|${this.target.pk}|${this.variant}`;
    if (!authorized) {
      const running = this.engine.flight(flightKey);
      if (running) {
        const shared = await this.engine.joinFlight(running, this.engine.options.waitTimeout);
        if (shared !== 'timeout' && shared && this.fits(shared.entry, shared.variant)) {
          this.engine.emit('cache:coalesced', { key: this.target.name, via: 'process', outcome: 'shared' });
          return this.serve(shared.entry, shared.now, { stale: shared.stale, collapsed: true });
        }
        this.engine.emit('cache:coalesced', { key: this.target.name, via: 'process', outcome: shared === 'timeout' ? 'timeout' : 'not-shared' });
      } else if (mayLead) {
        this.flight = this.engine.startFlight(flightKey);
      }
    }
    try {
      await this.lookupAndAnswer({ mayLead, onlyIfCached, authorized });
    } finally {
      // Every path that shares a result has finished the flight already.
      this.flight?.finish(undefined);
    }
  }

  private bypassReason(): CacheBypassReason | undefined {
    if (this.route.bypass?.(this.x.subject)) return 'route';
    if (this.req.headers.range !== undefined) return 'range';
    if (this.req.headers.upgrade !== undefined) return 'upgrade';
    return undefined;
  }

  private bypass(reason: CacheBypassReason): Promise<void> {
    this.engine.emit('cache:bypass', { key: this.target?.name ?? this.x.url, reason });
    this.setStatus({ hit: false, fwd: 'bypass', detail: reason });
    return this.x.forward();
  }

  /** Whether a shared entry is the variant this request would get. */
  private fits(entry: StoredEntry, variant: string): boolean {
    return variantId(entry.meta.v, this.req.headers) === variant;
  }

  private async lookupAndAnswer(o: { mayLead: boolean; onlyIfCached: boolean; authorized: boolean }): Promise<void> {
    const token = newToken();
    let reply: LookupReply;
    let varyMiss = false;
    try {
      reply = await this.engine.store.lookup(this.target, this.vary, this.variant, { token, mayLock: o.mayLead });
      if (reply.kind === 'vary') {
        varyMiss = true;
        this.vary = reply.vary;
        this.engine.setVaryHint(this.target.pk, reply.vary);
        this.variant = variantId(this.vary, this.req.headers);
        reply = await this.engine.store.lookup(this.target, this.vary, this.variant, { token, mayLock: o.mayLead });
      }
      this.engine.noteSuccess();
    } catch (error) {
      const coded = this.engine.noteError('lookup', error, this.target.name);
      if (this.engine.options.failPolicy === 'closed') return this.sendPlain(unavailableProblem('cache'));
      this.engine.emit('cache:bypass', { key: this.target.name, reason: 'unavailable' });
      this.setStatus({ hit: false, fwd: 'bypass', detail: coded.code === 'ERR_REDISKIT_TIMEOUT' ? 'timeout' : 'unavailable' });
      return this.x.forward();
    }
    if (reply.kind === 'vary') {
      // The vary list changed twice in a row; go to the origin without the cache.
      return this.bypass('route');
    }

    if (reply.kind === 'hit' || reply.kind === 'stale') {
      const { entry, now } = reply;
      if (o.authorized && entry.meta.a !== 1) {
        // A stored response a shared cache must not give to an authorized request.
        return this.fill({ token: '', bornAt: now, fwd: 'request', detail: 'authorization' });
      }
      this.flight?.finish({ entry, variant: this.variant, now, stale: reply.kind === 'stale' });
      if (reply.refresh) {
        const reason = reply.kind === 'hit' ? 'early' : reply.reason === 'soft-purge' ? 'soft-purge' : 'stale-while-revalidate';
        this.startRefresh(token, now, reason);
      }
      if (reply.kind === 'stale') {
        this.engine.emit('cache:stale', {
          key: this.target.name,
          age: now - entry.bornAt,
          reason: reply.reason === 'soft-purge' ? 'soft-purge' : 'stale-while-revalidate',
        });
      }
      return this.serve(entry, now, { stale: reply.kind === 'stale', collapsed: false });
    }

    // The URL has stored responses when this process knows its vary list.
    const fwd = varyMiss || (this.engine.varyHint(this.target.pk) !== undefined && this.vary.length > 0) ? 'vary-miss' : 'uri-miss';
    if (o.onlyIfCached) {
      this.engine.emit('cache:miss', { key: this.target.name, reason: 'only-if-cached' });
      return this.sendPlain(
        problemResponse({
          type: NOT_CACHED_TYPE,
          title: 'Gateway Timeout',
          status: 504,
          detail: 'The request said only-if-cached and no stored response is usable.',
        }),
      );
    }
    if (reply.kind === 'wait') {
      this.engine.emit('cache:miss', { key: this.target.name, reason: fwd });
      const waited = await this.engine.waitForFill(this.target, this.vary, this.variant, token);
      if (waited === 'timeout' || waited === 'error') {
        this.engine.emit('cache:coalesced', { key: this.target.name, via: 'redis', outcome: 'timeout' });
        if (waited === 'error') return this.bypass('unavailable');
        return this.fill({ token: '', bornAt: reply.now, fwd, collapsed: false, fallback: reply.fallback });
      }
      if (waited.kind === 'hit' || waited.kind === 'stale') {
        if (this.fits(waited.entry, this.variant)) {
          this.engine.emit('cache:coalesced', { key: this.target.name, via: 'redis', outcome: 'shared' });
          this.flight?.finish({ entry: waited.entry, variant: this.variant, now: waited.now, stale: waited.kind === 'stale' });
          if (waited.refresh) this.startRefresh(token, waited.now, waited.kind === 'hit' ? 'early' : 'stale-while-revalidate');
          return this.serve(waited.entry, waited.now, { stale: waited.kind === 'stale', collapsed: true });
        }
      }
      if (waited.kind === 'vary') {
        this.vary = waited.vary;
        this.engine.setVaryHint(this.target.pk, waited.vary);
        this.variant = variantId(this.vary, this.req.headers);
        return this.fill({ token: '', bornAt: waited.now, fwd: 'vary-miss' });
      }
      this.engine.emit('cache:coalesced', { key: this.target.name, via: 'redis', outcome: 'not-shared' });
      const lead = waited.kind === 'lead';
      return this.fill({
        token: lead ? token : '',
        bornAt: waited.now,
        fwd,
        fallback: 'fallback' in waited ? waited.fallback : undefined,
      });
    }
    this.engine.emit('cache:miss', { key: this.target.name, reason: reply.kind === 'pass' ? 'pass' : fwd });
    return this.fill({
      token: reply.kind === 'lead' ? token : '',
      bornAt: reply.now,
      fwd,
      fallback: reply.fallback,
    });
  }

  /** Writes a stored response: 200 (or its status), 304 for a matching conditional, no body for HEAD. */
  private serve(entry: StoredEntry, now: number, how: { stale: boolean; collapsed: boolean }): void {
    const { req, res } = this;
    const meta = entry.meta;
    const headers = meta.h ?? [];
    const age = Math.max(0, Math.floor((now - entry.bornAt) / 1000));
    const ttlSeconds = Math.floor((entry.freshUntil - now) / 1000);
    if (!how.stale && this.engine.listens('cache:hit')) {
      this.engine.emit('cache:hit', {
        key: this.target.name,
        age: now - entry.bornAt,
        ttl: entry.freshUntil - now,
        collapsed: how.collapsed,
      });
    }
    let status = meta.s ?? 200;
    let pairs: Array<[string, string]> = headers;
    let body: Buffer | undefined = this.method === 'HEAD' ? undefined : entry.body;
    const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
    if (status === 200 && conditional && notModified(req.headers, { etag: header(headers, 'etag'), lastModified: header(headers, 'last-modified') })) {
      status = 304;
      pairs = headers.filter(([n]) => NOT_MODIFIED_HEADERS.has(n));
      body = undefined;
    }
    if (res.headersSent) return;
    setHeaderPairs(res, pairs);
    if (status !== 304 && status !== 204 && !res.hasHeader('content-length')) res.setHeader('content-length', entry.body.length);
    res.setHeader('age', String(age));
    const kind = this.route.statusHeader;
    if (kind) res.setHeader(kind, formatHitStatus(kind, this.engine.options.cacheName, ttlSeconds, how.collapsed));
    res.statusCode = status;
    if (body === undefined) res.end();
    else res.end(body);
    this.x.served?.();
  }

  private sendPlain(plain: { status: number; headers: Record<string, string>; body: string }): void {
    if (this.res.headersSent) return;
    this.res.statusCode = plain.status;
    for (const [name, value] of Object.entries(plain.headers)) this.res.setHeader(name, value);
    this.res.end(plain.body);
    this.x.served?.();
  }

  /** Starts one background refresh through the app (the caller holds the refresh lock). */
  private startRefresh(token: string, now: number, reason: 'early' | 'soft-purge' | 'stale-while-revalidate'): void {
    const engine = this.engine;
    const target = this.target;
    const variant = this.variant;
    engine.emit('cache:refresh', { key: target.name, reason });
    if (!this.x.dispatch || this.method !== 'GET') {
      engine.track(engine.store.release(target, variant, token, false));
      return;
    }
    const headers: IncomingHttpHeaders = { ...this.originalHeaders };
    for (const h of [...CONDITIONAL, 'range']) delete headers[h];
    const marker: RefreshMarker = { token, bornAt: now, variant };
    engine.track(
      injectRequest(
        this.x.dispatch,
        { method: 'GET', url: this.x.url, headers, remoteAddress: this.req.socket?.remoteAddress },
        (req) => {
          (req as unknown as Record<symbol, unknown>)[REFRESH] = marker;
        },
        engine.options.fillHorizon,
      ),
    );
  }

  /**
   * Lets the request through to the origin and stores what comes back when
   * it may be stored; holds the end of the response until the entry is in
   * Redis (at most `storeTimeout`), so the next request is a hit.
   */
  private async fill(o: {
    token: string;
    bornAt: number;
    fwd: 'uri-miss' | 'vary-miss' | 'miss' | 'stale' | 'request';
    detail?: string;
    collapsed?: boolean;
    fallback?: StoredEntry | undefined;
  }): Promise<void> {
    const { req, res, route, engine } = this;
    const target = this.target;
    const lockedVariant = this.variant;
    const started = Date.now();
    // The origin must produce a full response to store; this request's own
    // conditional is answered by the stored copy next time (the policy and
    // the variant still see the headers as they came).
    const requestInfo = { method: this.method, headers: this.originalHeaders };
    for (const h of CONDITIONAL) delete req.headers[h];
    this.setStatus({ hit: false, fwd: o.fwd, ...(o.detail ? { detail: o.detail } : {}), ...(o.collapsed !== undefined ? { collapsed: o.collapsed } : {}) });

    let plan: StorePlan | undefined;
    let reason: UncacheableReason | undefined;
    let settled = false;
    let replaced = false;

    const decide = (status: number, headers: Array<[string, string]>): void => {
      const verdict = planStore(requestInfo, status, headers, route as ResolvedRouteOptions<unknown>, Date.now());
      if (verdict.ok) plan = verdict.plan;
      else reason = verdict.reason;
    };

    const finish = async (captured: CapturedResponse | undefined, abandoned?: string): Promise<void> => {
      if (settled) return;
      settled = true;
      if (captured && !plan && !reason) decide(captured.status, captured.headers);
      if (captured && plan && captured.body.length > route.maxBodySize) reason = 'too-large';
      if (!captured || !plan || reason) {
        const why: UncacheableReason | undefined = replaced ? undefined : (reason ?? (abandoned === 'too-large' ? 'too-large' : 'error'));
        if (why) engine.emit('cache:uncacheable', { key: target.name, reason: why });
        this.flight?.finish(undefined);
        if (o.token) {
          const pass = why !== undefined && why !== 'error' && why !== 'request-no-store';
          try {
            await engine.store.release(target, lockedVariant, o.token, pass);
          } catch (error) {
            engine.noteError('release', error, target.name);
          }
        }
        return;
      }
      await this.commit(captured, plan, o.token, lockedVariant, o.bornAt, Date.now() - started);
    };

    let slowOrigin: NodeJS.Timeout | undefined;
    const capture = captureResponse(res, {
      maxBytes: route.maxBodySize,
      timeout: engine.options.storeTimeout,
      onHead: (status, headers) => {
        clearTimeout(slowOrigin);
        if (o.fallback && status >= 500) {
          replaced = true;
          engine.emit('cache:stale', { key: target.name, age: o.bornAt - o.fallback.bornAt, reason: 'stale-if-error' });
          return { replaceWith: this.staleResponse(o.fallback, o.bornAt, status) };
        }
        decide(status, headers);
        if (!route.exposeTagHeaders) for (const name of route.tagHeaders) res.removeHeader(name);
        if (route.vary.length > 0) {
          const existing = String(res.getHeader('vary') ?? '');
          const present = new Set(existing.split(',').map((v) => v.trim().toLowerCase()).filter(Boolean));
          const missing = route.vary.filter((v) => !present.has(v));
          if (missing.length > 0 && !present.has('*')) res.setHeader('vary', [existing, ...missing].filter(Boolean).join(', '));
        }
        return plan !== undefined;
      },
      onEnd: (captured) => finish(captured),
      onAbandon: (why) => {
        clearTimeout(slowOrigin);
        void finish(undefined, why);
      },
    });
    const fallback = o.fallback;
    if (fallback && route.staleIfErrorTimeout !== undefined) {
      // A slow origin counts as a failing one: the stale copy goes out now.
      slowOrigin = setTimeout(() => {
        replaced = true;
        if (!capture.replace(this.staleResponse(fallback, o.bornAt + (Date.now() - started), 504))) replaced = false;
        else {
          engine.emit('cache:stale', { key: target.name, age: o.bornAt - fallback.bornAt, reason: 'stale-if-error' });
          this.x.served?.();
        }
      }, route.staleIfErrorTimeout);
    }

    try {
      await this.x.forward();
    } catch (error) {
      void finish(undefined, 'error');
      throw error;
    }
    if (!settled && this.x.leftover) {
      const left = await this.x.leftover();
      if (left) await finish(left);
    }
  }

  /** The stored copy as the stale-if-error answer. */
  private staleResponse(entry: StoredEntry, now: number, originStatus: number): CapturedResponse {
    const headers: Array<[string, string]> = (entry.meta.h ?? []).filter(([n]) => n !== 'content-length' && n !== this.route.statusHeader);
    headers.push(['content-length', String(entry.body.length)]);
    headers.push(['age', String(Math.max(0, Math.floor((now - entry.bornAt) / 1000)))]);
    const kind = this.route.statusHeader;
    if (kind) {
      headers.push([
        kind,
        formatCacheStatus(kind, this.engine.options.cacheName, {
          hit: false,
          fwd: 'stale',
          fwdStatus: originStatus,
          ttlSeconds: Math.floor((entry.freshUntil - now) / 1000),
          detail: 'stale-if-error',
        }),
      ]);
    }
    return { status: entry.meta.s ?? 200, headers, body: entry.body };
  }

  private collectTags(captured: CapturedResponse, plan: StorePlan): string[] | undefined {
    const tags = new Set<string>(plan.headerTags);
    try {
      const fromRoute = this.route.tags;
      const info: CacheResponseInfo = { status: captured.status, header: (name) => header(captured.headers, name.toLowerCase()) };
      const list = typeof fromRoute === 'function' ? fromRoute(this.x.subject, info) : fromRoute;
      for (const t of list ?? []) tags.add(t);
      for (const t of cacheTagsOf(this.res)) tags.add(t);
      for (const t of this.x.extraTags?.() ?? []) tags.add(t);
      for (const t of tags) checkTag(t);
    } catch {
      return undefined;
    }
    return [...tags];
  }

  private async commit(
    captured: CapturedResponse,
    plan: StorePlan,
    token: string,
    lockedVariant: string,
    bornAt: number,
    delta: number,
  ): Promise<void> {
    const engine = this.engine;
    const target = this.target;
    const tags = this.collectTags(captured, plan);
    const variant = variantId(plan.varyNames, this.originalHeaders);
    if (!tags) {
      engine.emit('cache:uncacheable', { key: target.name, reason: 'error' });
      this.flight?.finish(undefined);
      if (token) await engine.store.release(target, lockedVariant, token, false).catch(() => {});
      return;
    }
    const headers = captured.headers.filter(([n]) => !plan.drop.has(n));
    if (!headers.some(([n]) => n === 'date')) headers.push(['date', httpDate(bornAt)]);
    const meta: EntryMeta = { k: 'http', s: captured.status, h: headers, v: plan.varyNames };
    if (plan.shareAuthorized) meta.a = 1;
    try {
      const outcome = await engine.store.store(target, variant, {
        token,
        bornAt,
        freshMs: plan.freshMs,
        staleWhileRevalidateMs: plan.staleWhileRevalidateMs,
        staleIfErrorMs: plan.staleIfErrorMs,
        meta,
        body: captured.body,
        tags,
        delta,
      });
      engine.noteSuccess();
      if (variant !== lockedVariant && token) engine.track(engine.store.release(target, lockedVariant, token, false));
      if (outcome === 'stored') {
        engine.setVaryHint(target.pk, plan.varyNames);
        engine.emit('cache:store', { key: target.name, bytes: captured.body.length, ttl: plan.freshMs, tags });
        const entry: StoredEntry = { meta, body: captured.body, bornAt, freshUntil: bornAt + plan.freshMs };
        this.flight?.finish({ entry, variant, now: bornAt + delta, stale: false });
      } else {
        engine.emit('cache:uncacheable', { key: target.name, reason: outcome });
        this.flight?.finish(undefined);
      }
    } catch (error) {
      engine.noteError('store', error, target.name);
      this.flight?.finish(undefined);
    }
  }

  /**
   * After a 2xx answer to POST/PUT/PATCH/DELETE, purges the stored GET of
   * the same URL and of `Location`/`Content-Location` on this host, before
   * the response ends (so the client's next GET sees the change).
   */
  private invalidateOnSuccess(): void {
    const engine = this.engine;
    let purging: Promise<void> | undefined;
    captureResponse(this.res, {
      maxBytes: this.route.maxBodySize,
      timeout: engine.options.storeTimeout,
      onHead: (status, headers) => {
        if (status < 200 || status >= 300) return false;
        const urls = new Set<string>([this.keyName()]);
        const host = String(this.req.headers.host ?? '');
        for (const name of ['location', 'content-location']) {
          const value = header(headers, name);
          if (!value) continue;
          try {
            const u = new URL(value, `http://${host || 'localhost'}`);
            if (!host || u.host === host) urls.add(httpKeyName(u.pathname + u.search, this.route.keyHost ? host : undefined));
          } catch {
            // not a URL
          }
        }
        purging = Promise.all(
          [...urls].map((name) => engine.purgeTarget(engine.store.target('h', name), false).catch(() => {})),
        ).then(() => {});
        return true;
      },
      onEnd: () => purging,
    });
  }
}
