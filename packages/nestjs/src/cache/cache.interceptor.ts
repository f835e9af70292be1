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

/** After a cache hit, Nest still replies with the handler's (absent) result: make that a no-op. */
function mute(res: Response): void {
  const self = () => res;
  Object.assign(res, { status: self, send: self, json: self, end: self });
}

/**
 * Caches the HTTP responses of routes marked `@Cacheable()` (or of every GET
 * route when registered globally as `APP_INTERCEPTOR`; `@NoCache()` opts a
 * route out), adds `@CacheTags()`, purges `@InvalidateTags()` after a
 * successful handler, and purges the stored GET of a URL after a 2xx
 * POST/PUT/PATCH/DELETE to it. Works on the Express platform.
 *
 * Override the protected hooks to change what is cached.
 *
 * @example
 * providers: [{ provide: APP_INTERCEPTOR, useClass: CacheInterceptor }]
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  private readonly caches = new WeakMap<object, HttpCache<Request>>();
  protected readonly engine: RedisCache;

  constructor(
    @Inject(REDISKIT) protected readonly kit: RedisKit,
    @Inject(REDISKIT_OPTIONS) protected readonly moduleOptions: RedisKitModuleOptions,
    protected readonly reflector: Reflector,
  ) {
    this.engine = engineFor(kit, moduleOptions?.cache);
  }

  /** The route's cache options, or false when it is not cached. */
  protected optionsFor(context: ExecutionContext): NestCacheOptions | false {
    const found = this.reflector.getAllAndOverride<NestCacheOptions | false | undefined>(CACHEABLE, [
      context.getHandler(),
      context.getClass(),
    ]);
    return found ?? {};
  }

  /** Tag sources from `@CacheTags()` on the handler and its controller. */
  protected tagsFor(context: ExecutionContext): TagSource[] {
    return this.reflector.getAllAndMerge<TagSource[]>(CACHE_TAGS, [context.getHandler(), context.getClass()]) ?? [];
  }

  /** Tag sources from `@InvalidateTags()`. */
  protected invalidationsFor(context: ExecutionContext): TagSource[] {
    return this.reflector.getAllAndMerge<TagSource[]>(INVALIDATE_TAGS, [context.getHandler(), context.getClass()]) ?? [];
  }

  private httpCache(context: ExecutionContext, options: NestCacheOptions): HttpCache<Request> {
    const handler = context.getHandler();
    let c = this.caches.get(handler);
    if (!c) {
      c = new HttpCache<Request>('Cacheable', options);
      this.caches.set(handler, c);
    }
    return c;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const options = this.optionsFor(context);
    const tags = this.tagsFor(context);
    const invalidations = this.invalidationsFor(context);
    const handled = next.handle().pipe(
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
    if (options === false) return handled;
    const cache = this.httpCache(context, options);
    return new Observable((subscriber) => {
      let inner: Subscription | undefined;
      const forward = () =>
        new Promise<void>((resolve) => {
          inner = handled.subscribe({
            next: (v) => subscriber.next(v),
            error: (e: unknown) => {
              subscriber.error(e);
              resolve();
            },
            complete: () => {
              subscriber.complete();
              resolve();
            },
          });
        });
      cache
        .handle(this.kit, {
          req,
          res,
          url: req.originalUrl ?? req.url,
          subject: req,
          forward,
          dispatch: req.app as unknown as (q: unknown, s: unknown) => unknown,
          extraTags: () => res.locals?.cacheTags as string[] | undefined,
          served: () => {
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
