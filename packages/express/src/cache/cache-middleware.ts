import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  addCacheTags as addTags,
  HttpCache,
  RedisCache,
  isRedisKit,
  type RedisKit,
  type CacheRouteOptions,
} from '@rediskit/core';
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express';
import { getRedisKit } from '../context';

/** Options of {@link cache}: the route's cache options; functions receive the Express `req`. */
export type ExpressCacheOptions = CacheRouteOptions<Request>;

/** The app at the top of a mount chain: a background refresh runs the request through all of it. */
function topApp(app: Application | undefined): ((req: IncomingMessage, res: ServerResponse) => unknown) | undefined {
  let current = app as (Application & { parent?: Application }) | undefined;
  while (current?.parent) current = current.parent as Application & { parent?: Application };
  return current as unknown as ((req: IncomingMessage, res: ServerResponse) => unknown) | undefined;
}

/**
 * Caches GET responses of an app or a route in Redis: stores the whole
 * response however the handler writes it, serves hits with `Age` and
 * `Cache-Status`, coalesces concurrent misses, purges by tag, and lets
 * requests through to the handler when Redis fails. On POST/PUT/PATCH/DELETE
 * a 2xx answer purges the stored GET of the same URL.
 *
 * The context comes from `attachRedisKit(app, kit)` unless given first.
 *
 * @example
 * app.get('/products/:id', cache({ ttl: 60_000, tags: (req) => [`product:${req.params.id}`, 'products'] }), getProduct);
 * app.put('/products/:id', cache(), updateProduct); // a 2xx purges GET /products/:id
 */
export function cache(options?: ExpressCacheOptions): RequestHandler;
export function cache(kit: RedisKit, options?: ExpressCacheOptions): RequestHandler;
export function cache(first?: RedisKit | ExpressCacheOptions, second?: ExpressCacheOptions): RequestHandler {
  const kit = isRedisKit(first) ? first : undefined;
  const http = new HttpCache<Request>('cache', kit ? second : (first as ExpressCacheOptions | undefined));
  return (req: Request, res: Response, next: NextFunction) => {
    let forwarded = false;
    const k = kit ?? getRedisKit(req);
    http
      .handle(k, {
        req,
        res,
        url: req.originalUrl ?? req.url,
        subject: req,
        forward: () => {
          forwarded = true;
          next();
          return Promise.resolve();
        },
        dispatch: topApp(req.app),
        extraTags: () => res.locals?.cacheTags as string[] | undefined,
      })
      .catch((error: unknown) => {
        if (!forwarded) next(error);
      });
  };
}

/**
 * Adds tags to the response a handler is producing (or set
 * `res.locals.cacheTags`), so `purgeTags` can drop it later.
 *
 * @example
 * app.get('/products/:id', cache({ ttl: 60_000 }), async (req, res) => {
 *   const p = await db.product(req.params.id);
 *   addCacheTags(res, `product:${p.id}`, `category:${p.categoryId}`);
 *   res.json(p);
 * });
 */
export function addCacheTags(res: Response, ...tags: Array<string | readonly string[]>): void {
  addTags(res, ...tags);
}

/** The cache engine of the request's context (for `wrap`, `get`, `set`, `delete`). */
export function cacheOf(req: Request): RedisCache {
  return RedisCache.of(getRedisKit(req));
}

/**
 * Purges every entry with one of `tags` on every instance; rejects when
 * Redis fails (it never claims success).
 *
 * @example
 * app.put('/products/:id', async (req, res) => {
 *   await db.update(req.params.id, req.body);
 *   await purgeTags(req, [`product:${req.params.id}`, 'products']);
 *   res.sendStatus(204);
 * });
 */
export function purgeTags(req: Request, tags: string | readonly string[], options?: { soft?: boolean }): Promise<void> {
  return cacheOf(req).purgeTags(tags, options);
}
