import {
  expressRouteTemplate,
  expressTrustProxy,
  prepareHttpRateLimit,
  type HttpRateLimitOptions,
  type HttpRequestInfo,
  type RedisKit,
} from '@rediskit/core';
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express';
import { getRedisKit } from '../context';
import { sendPlain } from '../problem';

/** Options of {@link rateLimit}: the core HTTP options, `req` being Express's request. */
export interface ExpressRateLimitOptions extends HttpRateLimitOptions<Request> {
  /** The context to use; default the one attached to the app with attachRedisKit(). */
  kit?: RedisKit;
}

/**
 * The app's `trust proxy` setting, as the rate limiter's advisories need it.
 *
 * @example
 * trustProxyOf(app); // 'none' by default, 'some' after app.set('trust proxy', 1), 'all' after true
 */
export function trustProxyOf(app: Application | undefined): 'all' | 'some' | 'none' {
  return expressTrustProxy(app?.get('trust proxy'));
}

/**
 * The route template of a request (`/api/users/:id`), once Express has matched a route.
 *
 * @example
 * app.get('/users/:id', (req, res) => res.send(routeTemplateOf(req))); // '/users/:id'
 */
export function routeTemplateOf(req: Request): string | undefined {
  return expressRouteTemplate(req);
}

/**
 * Express middleware that rate limits requests: app-wide (`app.use`) with one
 * bucket per client, or on a route with one bucket per client and route
 * template. Clients over a limit get a 429 problem+json with Retry-After;
 * every response carries the RateLimit headers.
 *
 * @example
 * app.use(rateLimit({ limit: 300, window: 60_000 }));
 * app.post('/login', rateLimit({
 *   policies: [
 *     { name: 'ip', algorithm: 'sliding-window', limit: 20, window: 60_000 },
 *     { name: 'user', algorithm: 'fixed-window', limit: 5, window: 900_000, key: (req) => req.body?.username },
 *   ],
 * }), login);
 */
export function rateLimit(options: ExpressRateLimitOptions): RequestHandler {
  const { kit: explicit, ...rest } = options ?? ({} as ExpressRateLimitOptions);
  const forKit = prepareHttpRateLimit<Request>(rest, 'rateLimit');
  return async function rediskitRateLimit(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const http = forKit(explicit ?? getRedisKit(req));
      const outcome = await http.handle(new ExpressRequestInfo(req, res));
      if (outcome.action === 'respond') {
        sendPlain(res, outcome.response);
        return;
      }
      const headers = outcome.headers;
      for (const name in headers) res.setHeader(name, headers[name]!);
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * What the limiter learns about an Express request. The address and the
 * proxy facts are getters, read only by a limiter keyed by IP: `req.ip` runs
 * proxy-addr, which a limiter with its own key never needs. (A class, not an
 * object literal with getters, which V8 builds slowly on every request.)
 */
class ExpressRequestInfo implements HttpRequestInfo<Request> {
  readonly method: string;
  readonly route: string | undefined;

  constructor(
    readonly req: Request,
    readonly res: Response,
  ) {
    this.method = req.method;
    this.route = routeTemplateOf(req);
  }

  get ip(): string | undefined {
    return this.req.ip;
  }

  get forwardedFor(): boolean {
    return this.req.headers['x-forwarded-for'] !== undefined;
  }

  get trustProxy(): 'all' | 'some' | 'none' {
    return trustProxyOf(this.req.app);
  }
}
