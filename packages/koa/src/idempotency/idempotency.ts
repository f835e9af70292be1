import {
  headerPairs,
  prepareIdempotency,
  writeIdempotencyResponse,
  type CapturedResponse,
  type IdempotencyOptions,
  type IdempotencyRequest,
  type RedisKit,
} from '@rediskit/core';
import type { Context, Middleware } from 'koa';
import { Stream } from 'node:stream';
import { getRedisKit } from '../context';

/** Options of the Koa {@link idempotency} middleware; `principal` gets the Koa context. */
export type KoaIdempotencyOptions = IdempotencyOptions<Context>;

type BodyRequest = { body?: unknown; rawBody?: string | Buffer };

/**
 * The engine's view of a Koa request. @koa/bodyparser and koa-bodyparser set
 * `ctx.request.body` and keep the bytes in `ctx.request.rawBody`; for a
 * content type they do not parse they leave `body = {}` and no `rawBody`,
 * which is not the body, so it is not used.
 */
export function koaIdempotencyRequest(ctx: Context): IdempotencyRequest<Context> {
  const request = ctx.request as unknown as BodyRequest;
  const parsed = request.rawBody !== undefined || (request.body !== undefined && !isPlaceholder(request.body));
  const session = (ctx as { session?: { user?: unknown; userId?: unknown } | null }).session;
  return {
    method: ctx.method,
    path: ctx.path,
    ...(ctx.querystring ? { query: ctx.querystring } : {}),
    headers: ctx.headers,
    rawHeaders: ctx.req.rawHeaders,
    ...(parsed ? { body: request.body } : {}),
    ...(request.rawBody !== undefined ? { rawBody: request.rawBody } : {}),
    user: (ctx.state as { user?: unknown }).user ?? session?.user ?? session?.userId,
    native: ctx,
  };
}

function isPlaceholder(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0;
}

// What Koa would have sent, for a handler whose client left before Koa's
// respond() ran (Koa skips writing to a closed socket).
function snapshot(ctx: Context): CapturedResponse | undefined {
  const body = ctx.body as unknown;
  if (body instanceof Stream) return undefined;
  const bytes =
    body === undefined || body === null
      ? Buffer.alloc(0)
      : Buffer.isBuffer(body)
        ? body
        : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  return { status: ctx.status, headers: headerPairs(ctx.response.headers), body: bytes };
}

/**
 * Idempotency-Key middleware for Koa: a retried POST gets the first response
 * back instead of running the handler again. Put it after the body parser,
 * per route (with @koa/router) or app-wide (it handles POST, PUT, PATCH and
 * DELETE by default). Options are validated here. Without `kit`, the context
 * comes from `attachRedisKit(app, kit)`.
 *
 * @example
 * app.use(bodyParser());
 * router.post('/orders', idempotency({ required: true }), createOrder);
 */
export function idempotency(options?: KoaIdempotencyOptions): Middleware;
export function idempotency(kit: RedisKit, options?: KoaIdempotencyOptions): Middleware;
export function idempotency(a?: RedisKit | KoaIdempotencyOptions, b?: KoaIdempotencyOptions): Middleware {
  const engineFor = prepareIdempotency<Context>(a, b);
  return async (ctx, next) => {
    const engine = engineFor(() => getRedisKit(ctx));
    const decision = await engine.begin(koaIdempotencyRequest(ctx));
    if (decision.action === 'respond') {
      // Written as is: a replay is byte-identical, whatever Koa would do with a body.
      ctx.status = decision.response.status;
      ctx.respond = false;
      writeIdempotencyResponse(ctx.res, decision.response);
      return;
    }
    const claim = decision.action === 'proceed' ? decision.claim : undefined;
    if (!claim) return next();
    claim.track(ctx.res);
    try {
      await next();
    } catch (error) {
      // Released before Koa writes the error response, so a retry runs again.
      await claim.release('error');
      throw error;
    }
    // Koa writes the response after every middleware returned, and skips it
    // for a client that has left: then the claim stores what Koa would have sent.
    claim.handlerDone(() => snapshot(ctx));
  };
}
