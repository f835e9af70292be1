import { prepareHttpRateLimit, type HttpRateLimitOptions, type HttpRequestInfo, type RedisKit } from '@rediskit/core';
import type { Context, Middleware } from 'koa';
import { getRedisKit } from '../context';
import { sendPlain } from '../problem';

/** Options of {@link rateLimit}: the core HTTP options, `req` being Koa's `ctx`. */
export interface KoaRateLimitOptions extends HttpRateLimitOptions<Context> {
  /** The context to use; default the one attached to the app with attachRedisKit(). */
  kit?: RedisKit;
}

/**
 * Koa's proxy settings, as the rate limiter's advisories need them.
 *
 * @example
 * app.proxy = true; app.maxIpsCount = 1;
 * trustProxyOf(ctx); // 'some'
 */
export function trustProxyOf(ctx: Context): 'all' | 'some' | 'none' {
  const app = ctx.app as { proxy?: boolean; maxIpsCount?: number };
  if (!app.proxy) return 'none';
  return (app.maxIpsCount ?? 0) > 0 ? 'some' : 'all';
}

/**
 * Koa middleware that rate limits requests: app-wide (`app.use`) with one
 * bucket per client, or on a @koa/router route with one bucket per client and
 * route template. Clients over a limit get a 429 problem+json with
 * Retry-After; every response carries the RateLimit headers.
 *
 * @example
 * app.use(rateLimit({ limit: 300, window: 60_000 }));
 * router.get('/search', rateLimit({ algorithm: 'token-bucket', limit: 10, window: 1000, burst: 20 }), search);
 */
export function rateLimit(options: KoaRateLimitOptions): Middleware {
  const { kit: explicit, ...rest } = options ?? ({} as KoaRateLimitOptions);
  const forKit = prepareHttpRateLimit<Context>(rest, 'rateLimit');
  return async function rediskitRateLimit(ctx, next) {
    const http = forKit(explicit ?? getRedisKit(ctx));
    const outcome = await http.handle(new KoaRequestInfo(ctx));
    if (outcome.action === 'respond') {
      sendPlain(ctx, outcome.response);
      return;
    }
    ctx.set(outcome.headers);
    await next();
  };
}

/**
 * What the limiter learns about a Koa request; the address and the proxy
 * facts are getters, read only by a limiter keyed by IP.
 */
class KoaRequestInfo implements HttpRequestInfo<Context> {
  readonly method: string;
  readonly route: string | undefined;
  readonly res: Context['res'];

  constructor(readonly req: Context) {
    this.method = req.method;
    const matched = (req as { _matchedRoute?: unknown })._matchedRoute;
    this.route = typeof matched === 'string' ? matched : undefined;
    this.res = req.res;
  }

  get ip(): string | undefined {
    return this.req.ip;
  }

  get forwardedFor(): boolean {
    return this.req.get('x-forwarded-for') !== '';
  }

  get trustProxy(): 'all' | 'some' | 'none' {
    return trustProxyOf(this.req);
  }
}
