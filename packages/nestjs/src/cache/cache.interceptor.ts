import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { addCacheTags, HttpCache, type RedisCache, type RedisKit } from '@rediskit/core';
import type { Request, Response } from 'express';
import { mergeMap, Observable, tap, type Subscription } from 'rxjs';
import { REDISKIT, REDISKIT_OPTIONS } from '../rediskit.constants';
import type { RedisKitModuleOptions } from '../rediskit.module-definition';
import { CACHE_TAGS, CACHEABLE, INVALIDATE_TAGS } from './cache.constants';
import type { NestCacheOptions, TagSource } from './cache.decorators';
import { engineFor } from './cache.engine';

function resolveTags(sources: readonly TagSource[] | undefined, req: Request, result: unknown): string[] {
  const out: string[] = [];
  for (const s of sources ?? []) {
    const v = typeof s === 'function' ? s(req, result) : s;
    if (v === undefined || v === null) continue;
    if (typeof v === 'string') out.push(v);
    else out.push(...v);
  }
  return out;
}

/** Responses the cache has answered: Nest's own reply to them must change nothing. */
const answered = new WeakSet<object>();
const quietPrototypes = new WeakSet<object>();
const QUIET = ['status', 'send', 'json', 'end'] as const;

/**
 * After a cache hit, Nest still replies with the interceptor's (absent)
 * result through the response's methods: make those do nothing for this
 * response. Express swaps the prototype of every response, so each property
 * added to one builds a new hidden class (microseconds, on every hit); the
 * methods are therefore wrapped once on the prototype, and a hit only joins a
 * set.
 */
function mute(res: Response): void {
  answered.add(res);
  const proto = Object.getPrototypeOf(res) as Record<string, unknown> | null;
  if (!proto || quietPrototypes.has(proto)) return;
  quietPrototypes.add(proto);
  for (const name of QUIET) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    const quiet = function (this: object) {
      // `arguments`, not rest parameters: no array is built on every call of every response.
      return answered.has(this) ? this : (original as (...a: unknown[]) => unknown).apply(this, arguments as unknown as unknown[]);
    };
    Object.defineProperty(quiet, 'name', { value: original.name });
    Object.defineProperty(proto, name, { configurable: true, writable: true, value: quiet });
  }
}

/** The decorators' metadata of one route. */
interface RouteMetadata {
  options: NestCacheOptions | false;
  tags: TagSource[];
  invalidations: TagSource[];
}

const NO_OPTIONS: NestCacheOptions = Object.freeze({});

/**
 * Caches the HTTP responses of routes marked `@Cacheable()` (or of every GET
 * route when registered globally as `APP_INTERCEPTOR`; `@NoCache()` opts a
 * route out), adds `@CacheTags()`, purges `@InvalidateTags()` after a
 * successful handler, and purges the stored GET of a URL after a 2xx
 * POST/PUT/PATCH/DELETE to it. Works on the Express platform.
 *
 * Override the protected hooks to change what is cached; they are called for
 * each request (`tagsFor` and `invalidationsFor` only when the handler runs).
 *
 * @example
 * providers: [{ provide: APP_INTERCEPTOR, useClass: CacheInterceptor }]
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  /** One route cache per options object: decorators give the same object on every request. */
  private readonly caches = new WeakMap<object, HttpCache<Request>>();
  /** Decorator metadata by controller class, then handler (a handler may be inherited by several). */
  private readonly metadata = new WeakMap<object, WeakMap<object, RouteMetadata>>();
  protected readonly engine: RedisCache;

  constructor(
    @Inject(REDISKIT) protected readonly kit: RedisKit,
    @Inject(REDISKIT_OPTIONS) protected readonly moduleOptions: RedisKitModuleOptions,
    protected readonly reflector: Reflector,
  ) {
    this.engine = engineFor(kit, moduleOptions?.cache);
  }

  /**
   * The route's cache options, or false when it is not cached. An override
   * may decide per request; returning the same object for the same options
   * spares validating them again. The default's object is shared by every
   * request (frozen when no decorator gave one): copy it to change it.
   */
  protected optionsFor(context: ExecutionContext): NestCacheOptions | false {
    return this.metadataOf(context).options;
  }

  /** Tag sources from `@CacheTags()` on the handler and its controller. */
  protected tagsFor(context: ExecutionContext): TagSource[] {
    return [...this.metadataOf(context).tags];
  }

  /** Tag sources from `@InvalidateTags()`. */
  protected invalidationsFor(context: ExecutionContext): TagSource[] {
    return [...this.metadataOf(context).invalidations];
  }

  /** The decorators are read once per route, not on every request. */
  private metadataOf(context: ExecutionContext): RouteMetadata {
    const handler = context.getHandler();
    const type = context.getClass();
    let routes = this.metadata.get(type);
    if (!routes) {
      routes = new WeakMap();
      this.metadata.set(type, routes);
    }
    let found = routes.get(handler);
    if (!found) {
      const targets = [handler, type];
      found = {
        options: this.reflector.getAllAndOverride<NestCacheOptions | false | undefined>(CACHEABLE, targets) ?? NO_OPTIONS,
        tags: this.reflector.getAllAndMerge<TagSource[]>(CACHE_TAGS, targets) ?? [],
        invalidations: this.reflector.getAllAndMerge<TagSource[]>(INVALIDATE_TAGS, targets) ?? [],
      };
      routes.set(handler, found);
    }
    return found;
  }

  private httpCache(options: NestCacheOptions): HttpCache<Request> {
    let c = this.caches.get(options);
    if (!c) {
      c = new HttpCache<Request>('Cacheable', options);
      this.caches.set(options, c);
    }
    return c;
  }

  /** The handler's result with the tags added and the invalidations purged (built only when the handler runs). */
  private handled(context: ExecutionContext, next: CallHandler, req: Request, res: Response): Observable<unknown> {
    const tags = this.tagsFor(context);
    const invalidations = this.invalidationsFor(context);
    return next.handle().pipe(
      tap((result) => {
        const list = resolveTags(tags, req, result);
        if (list.length > 0) addCacheTags(res, list);
      }),
      mergeMap(async (result) => {
        const list = resolveTags(invalidations, req, result);
        if (list.length > 0) {
          // The mutation succeeded; a failed purge is reported (event, log) but does not fail it.
          await this.engine.purgeTags(list).catch(() => {});
        }
        return result;
      }),
    );
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const options = this.optionsFor(context);
    if (options === false) return this.handled(context, next, req, res);
    const cache = this.httpCache(options);
    const interceptor = this;
    // Methods, not named arrow functions: the build keeps function names
    // (Nest needs its class names), which costs a defineProperty per closure.
    return new Observable((subscriber) => {
      let inner: Subscription | undefined;
      cache
        .handle(this.kit, {
          req,
          res,
          url: req.originalUrl ?? req.url,
          subject: req,
          forward() {
            return new Promise<void>((resolve) => {
              inner = interceptor.handled(context, next, req, res).subscribe({
                next(v) {
                  subscriber.next(v);
                },
                error(e: unknown) {
                  subscriber.error(e);
                  resolve();
                },
                complete() {
                  subscriber.complete();
                  resolve();
                },
              });
            });
          },
          dispatch: req.app as unknown as (q: unknown, s: unknown) => unknown,
          extraTags() {
            return res.locals?.cacheTags as string[] | undefined;
          },
          served() {
            mute(res);
            subscriber.next(undefined);
            subscriber.complete();
          },
        })
        .catch((error: unknown) => subscriber.error(error));
      return () => inner?.unsubscribe();
    });
  }
}
