// Facts about a request on the Express platform, which both @rediskit/express
// and @rediskit/nestjs (Nest on Express) need; kept here so the two read them
// the same way.

/**
 * What an Express `trust proxy` setting means for the rate limiter's
 * advisories: `true` trusts every hop, a falsy setting none, anything else
 * (a hop count, addresses, a function) some.
 *
 * @example
 * expressTrustProxy(app.get('trust proxy')); // 'none' by default, 'some' after app.set('trust proxy', 1)
 */
export function expressTrustProxy(setting: unknown): 'all' | 'some' | 'none' {
  if (setting === true) return 'all';
  if (setting === undefined || setting === false || setting === 0) return 'none';
  return 'some';
}

/**
 * The route template of an Express request (`/api/users/:id`) once a route
 * matched: the router's mount path plus the route's path.
 *
 * @example
 * expressRouteTemplate(req); // '/api/users/:id'
 */
export function expressRouteTemplate(req: { route?: unknown; baseUrl?: string }): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return path === undefined ? undefined : `${req.baseUrl ?? ''}${String(path)}`;
}
