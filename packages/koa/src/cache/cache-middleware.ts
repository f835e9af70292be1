import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import {
  addCacheTags as addTags,
  headerPairs,
  HttpCache,
  RedisCache,
  isRedisKit,
  type RedisKit,
  type CacheRouteOptions,
  type CapturedResponse,
} from '@rediskit/core';
import type Koa from 'koa';
import { getRedisKit } from '../context';

/** Options of {@link cache}: the route's cache options; functions receive the Koa `ctx`. */
export type KoaCacheOptions = CacheRouteOptions<Koa.Context>;

const callbacks = new WeakMap<object, (req: IncomingMessage, res: ServerResponse) => unknown>();

function callbackOf(app: Koa<any, any>): (req: IncomingMessage, res: ServerResponse) => unknown {
  let cb = callbacks.get(app);
  if (!cb) {
    cb = app.callback() as (req: IncomingMessage, res: ServerResponse) => unknown;
    callbacks.set(app, cb);
  }
  return cb;
}

async function bodyBytes(body: unknown, max: number): Promise<Buffer | undefined> {
  if (body === null || body === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Readable) {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += b.length;
      if (size > max) {
        body.destroy();
        return undefined;
      }
      parts.push(b);
    }
    return Buffer.concat(parts);
  }
  return Buffer.from(JSON.stringify(body));
}

/**
 * The response as the handler left it, when Koa will not write it because
 * the client is gone: the fill still completes and waiters get it.
 */
async function leftover(ctx: Koa.Context, max: number): Promise<CapturedResponse | undefined> {
  if (ctx.writable || ctx.res.writableEnded || ctx.respond === false) return undefined;
  const body = await bodyBytes(ctx.body, max);
  if (!body) return undefined;
  return { status: ctx.status, headers: headerPairs(ctx.res.getHeaders()), body };
}

/**
 * Caches GET responses in Redis, for an app (`app.use`) or a router route:
 * stores the whole response however it is written (`ctx.body` string, JSON,
 * Buffer or stream, or `ctx.res` writes), serves hits with `Age` and
 * `Cache-Status`, coalesces concurrent misses, purges by tag, and passes
 * requests through when Redis fails. On POST/PUT/PATCH/DELETE a 2xx answer
 * purges the stored GET of the same URL.
 *
 * The context comes from `attachRedisKit(app, kit)` unless given first.
 *
 * @example
 * router.get('/products/:id', cache({ ttl: 60_000, tags: (ctx) => [`product:${ctx.params.id}`] }), getProduct);
 */
export function cache(options?: KoaCacheOptions): Koa.Middleware;
export function cache(kit: RedisKit, options?: KoaCacheOptions): Koa.Middleware;
export function cache(first?: RedisKit | KoaCacheOptions, second?: KoaCacheOptions): Koa.Middleware {
  const kit = isRedisKit(first) ? first : undefined;
  const options = kit ? second : (first as KoaCacheOptions | undefined);
  const http = new HttpCache<Koa.Context>('cache', options);
  const max = options?.maxBodySize ?? 1 << 20;
  return async (ctx, next) => {
    await http.handle(kit ?? getRedisKit(ctx), {
      req: ctx.req,
      res: ctx.res,
      url: ctx.originalUrl,
      subject: ctx,
      forward: () => next(),
      dispatch: callbackOf(ctx.app),
      leftover: () => leftover(ctx, max),
      extraTags: () => ctx.state?.cacheTags as string[] | undefined,
      served: () => {
        ctx.respond = false;
      },
    });
  };
}

/**
 * Adds tags to the response being produced (or set `ctx.state.cacheTags`).
 *
 * @example
 * addCacheTags(ctx, `product:${product.id}`);
 */
export function addCacheTags(ctx: Koa.Context, ...tags: Array<string | readonly string[]>): void {
  addTags(ctx.res, ...tags);
}

/** The cache engine of the app's context (for `wrap`, `get`, `set`, `delete`). */
export function cacheOf(ctx: Koa.Context): RedisCache {
  return RedisCache.of(getRedisKit(ctx));
}

/**
 * Purges every entry with one of `tags` on every instance; rejects when
 * Redis fails.
 *
 * @example
 * await purgeTags(ctx, [`product:${ctx.params.id}`, 'products']);
 */
export function purgeTags(ctx: Koa.Context, tags: string | readonly string[], options?: { soft?: boolean }): Promise<void> {
  return cacheOf(ctx).purgeTags(tags, options);
}
