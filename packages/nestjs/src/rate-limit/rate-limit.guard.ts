import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  defaultPolicyName,
  expressRouteTemplate,
  expressTrustProxy,
  HttpRateLimit,
  type HttpRequestInfo,
  RATE_LIMIT_POLICY_FIELDS,
  prepareHttpRateLimit,
  RedisKitError,
  type HttpRateLimitPolicy,
  type ProblemDetails,
  type RateLimitAlgorithm,
  type RedisKit,
} from '@rediskit/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REDISKIT, REDISKIT_OPTIONS } from '../rediskit.constants';
import type { RedisKitModuleOptions } from '../rediskit.module-definition';
import { RateLimitException } from './rate-limit.exception';
import { RATE_LIMIT_METADATA, SKIP_RATE_LIMIT_METADATA, type RateLimitOptions } from './rate-limit.metadata';

/** The Express-platform request as the guard reads it. */
export type RateLimitedRequest = IncomingMessage & {
  ip?: string;
  method: string;
  route?: { path?: unknown };
  baseUrl?: string;
  app?: { get?(name: string): unknown };
};

const HANDLED = Symbol.for('rediskit.ratelimit.handled');

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

type Layer = RateLimitOptions | undefined;

function policiesOf(layer: RateLimitOptions): HttpRateLimitPolicy[] {
  if (layer.policies) {
    return layer.policies.map((p) => ({
      ...p,
      name:
        p.name ??
        (layer.policies!.length === 1
          ? 'default'
          : defaultPolicyName({ algorithm: (p.algorithm ?? 'sliding-window') as RateLimitAlgorithm, limit: p.limit, window: p.window ?? 0 })),
    }));
  }
  const single: Record<string, unknown> = {};
  for (const f of RATE_LIMIT_POLICY_FIELDS) if (f !== 'name' && (layer as Record<string, unknown>)[f] !== undefined) single[f] = (layer as Record<string, unknown>)[f];
  return Object.keys(single).length > 0 ? [{ name: 'default', ...(single as unknown as HttpRateLimitPolicy) }] : [];
}

function withoutPolicies(layer: RateLimitOptions): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...layer };
  delete rest.policies;
  for (const f of RATE_LIMIT_POLICY_FIELDS) delete rest[f];
  return rest;
}

/**
 * Merges module defaults, controller and handler options (later wins; policies
 * merge by name) and drops skipped policies. Undefined: nothing to enforce.
 *
 * @example
 * mergeRateLimitOptions([{ failPolicy: 'closed', limit: 100, window: 60_000 }, { policies: [{ name: 'default', limit: 5, window: 60_000 }] }], []);
 * // { failPolicy: 'closed', policies: [{ name: 'default', limit: 5, window: 60000 }] }
 */
export function mergeRateLimitOptions(layers: Layer[], skip: true | string[] | undefined): RateLimitOptions | undefined {
  if (skip === true) return undefined;
  const merged: Record<string, unknown> = {};
  const policies = new Map<string, HttpRateLimitPolicy>();
  for (const layer of layers) {
    if (!layer) continue;
    Object.assign(merged, withoutPolicies(layer));
    for (const p of policiesOf(layer)) policies.set(p.name!, p);
  }
  for (const name of skip ?? []) policies.delete(name);
  if (policies.size === 0) return undefined;
  return { ...(merged as RateLimitOptions), policies: [...policies.values()] };
}

/**
 * Rate limits Nest routes (Express platform) decorated with `@RateLimit()`,
 * or every route when registered as a global guard with module defaults
 * that name policies. One decision per request, one Redis round trip,
 * whatever the number of policies; refused requests get a
 * {@link RateLimitException} (429 or 503 problem+json).
 *
 * Override the protected hooks to change how requests are told apart:
 *
 * @example
 * @Injectable()
 * export class ApiKeyRateLimitGuard extends RateLimitGuard {
 *   protected override getTracker(req: RateLimitedRequest) {
 *     return req.headers['x-api-key'] as string | undefined;
 *   }
 * }
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly byHandler = new WeakMap<object, ((kit: RedisKit) => HttpRateLimit) | null>();

  constructor(
    @Inject(REDISKIT) protected readonly kit: RedisKit,
    @Inject(REDISKIT_OPTIONS) protected readonly moduleOptions: RedisKitModuleOptions,
    protected readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const { req, res } = this.getRequestResponse(context);
    // A guard applied twice (globally and by @RateLimit) decides once.
    const marked = req as unknown as Record<symbol, boolean>;
    if (marked[HANDLED]) return true;
    marked[HANDLED] = true;
    // The hooks may answer synchronously; then nothing waits for a promise.
    const skip = this.shouldSkip(context);
    if (isThenable(skip) ? await skip : skip) return true;
    const limiter = this.limiterFor(context);
    if (!limiter) return true;
    const found = this.getTracker(req, context);
    const tracker = isThenable(found) ? await found : found;
    const outcome = await limiter(this.kit).handle(new NestRequestInfo(req, res, this.getRoute(context, req), tracker, () => this.trustProxy(req)));
    if (outcome.action === 'respond') {
      for (const [name, value] of Object.entries(outcome.response.headers)) res.setHeader(name, value);
      throw new RateLimitException(JSON.parse(outcome.response.body) as ProblemDetails, outcome.response.headers);
    }
    const headers = outcome.headers;
    for (const name in headers) res.setHeader(name, headers[name]!);
    return true;
  }

  /** The request and response; override for another platform adapter. */
  protected getRequestResponse(context: ExecutionContext): { req: RateLimitedRequest; res: ServerResponse } {
    const http = context.switchToHttp();
    return { req: http.getRequest<RateLimitedRequest>(), res: http.getResponse<ServerResponse>() };
  }

  /**
   * The client's identity for every policy without a key of its own. Default
   * undefined: the options' `key`, else the client IP (`req.ip`, which honours
   * Express's `trust proxy`). Return '' to leave the request unlimited.
   */
  protected getTracker(_req: RateLimitedRequest, _context: ExecutionContext): string | undefined | Promise<string | undefined> {
    return undefined;
  }

  /** True to let a request through unchecked. Default false. */
  protected shouldSkip(_context: ExecutionContext): boolean | Promise<boolean> {
    return false;
  }

  /** The route template that names the bucket (`/users/:id`). */
  protected getRoute(_context: ExecutionContext, req: RateLimitedRequest): string | undefined {
    return expressRouteTemplate(req);
  }

  /** The options that apply to a handler: module defaults, then controller, then handler. */
  protected getOptions(context: ExecutionContext): RateLimitOptions | undefined {
    const handler = context.getHandler();
    const cls = context.getClass();
    const skipHandler = this.reflector.get(SKIP_RATE_LIMIT_METADATA, handler);
    const skipClass = this.reflector.get(SKIP_RATE_LIMIT_METADATA, cls);
    const skip = skipHandler === true || skipClass === true ? true : [...(skipClass ?? []), ...(skipHandler ?? [])];
    const defaults = this.moduleOptions?.rateLimit as RateLimitOptions | undefined;
    const onClass = this.reflector.get(RATE_LIMIT_METADATA, cls);
    const onHandler = this.reflector.get(RATE_LIMIT_METADATA, handler);
    const merged = mergeRateLimitOptions([defaults, onClass, onHandler], skip);
    if (!merged && (onClass || onHandler) && skip !== true && (skip ?? []).length === 0) {
      throw new RedisKitError(
        'ERR_REDISKIT_INVALID_OPTION',
        `@RateLimit() on ${cls.name}.${handler.name} names no policy and RedisKitModule has no rateLimit defaults with one`,
        { details: { option: 'rateLimit.policies' } },
      );
    }
    return merged;
  }

  private limiterFor(context: ExecutionContext): ((kit: RedisKit) => HttpRateLimit) | undefined {
    const handler = context.getHandler();
    let entry = this.byHandler.get(handler);
    if (entry === undefined) {
      const options = this.getOptions(context);
      entry = options ? prepareHttpRateLimit(options, `@RateLimit(${context.getClass().name}.${handler.name})`) : null;
      this.byHandler.set(handler, entry);
    }
    return entry ?? undefined;
  }

  private trustProxy(req: RateLimitedRequest): 'all' | 'some' | 'none' {
    return expressTrustProxy(req.app?.get?.('trust proxy'));
  }
}

/**
 * What the limiter learns about a request; the address and the proxy facts
 * are getters, read only by a limiter keyed by IP.
 */
class NestRequestInfo implements HttpRequestInfo<RateLimitedRequest> {
  readonly method: string;

  constructor(
    readonly req: RateLimitedRequest,
    readonly res: ServerResponse,
    readonly route: string | undefined,
    readonly key: string | undefined,
    private readonly trust: () => 'all' | 'some' | 'none',
  ) {
    this.method = req.method;
  }

  get ip(): string | undefined {
    return this.req.ip;
  }

  get forwardedFor(): boolean {
    return this.req.headers['x-forwarded-for'] !== undefined;
  }

  get trustProxy(): 'all' | 'some' | 'none' {
    return this.trust();
  }
}
