import {
  type IdempotencyEngine,
  prepareIdempotency,
  type RedisKit,
  writeIdempotencyResponse,
  type IdempotencyOptions,
  type IdempotencyRequest,
} from '@rediskit/core';
import type { Request, RequestHandler } from 'express';
import { getRedisKit } from '../context';

/** Options of the Express {@link idempotency} middleware; `principal` gets the Express request. */
export type ExpressIdempotencyOptions = IdempotencyOptions<Request>;

/** The engine's view of an Express request. The body is what express.json(), .urlencoded(), .text() or .raw() left in `req.body`. */
export function expressIdempotencyRequest(req: Request): IdempotencyRequest<Request> {
  const url = req.originalUrl ?? req.url;
  const q = url.indexOf('?');
  const session = (req as { session?: { user?: unknown; userId?: unknown } }).session;
  return {
    method: req.method,
    path: q === -1 ? url : url.slice(0, q),
    ...(q === -1 ? {} : { query: url.slice(q + 1) }),
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    body: req.body as unknown,
    ...(Buffer.isBuffer((req as { rawBody?: unknown }).rawBody) ? { rawBody: (req as unknown as { rawBody: Buffer }).rawBody } : {}),
    user: (req as { user?: unknown }).user ?? session?.user ?? session?.userId,
    native: req,
  };
}

/**
 * Idempotency-Key middleware for Express: a retried POST gets the first
 * response back instead of running the handler again. Put it after the body
 * parser, per route or app-wide (it handles POST, PUT, PATCH and DELETE by
 * default and passes other methods through). Options are validated here, so
 * a bad option fails at startup. Without `kit`, the context comes from
 * `attachRedisKit(app, kit)`.
 *
 * @example
 * app.use(express.json());
 * app.post('/orders', idempotency({ required: true }), createOrder);
 * // or app-wide: app.use(idempotency());
 */
export function idempotency(options?: ExpressIdempotencyOptions): RequestHandler;
export function idempotency(kit: RedisKit, options?: ExpressIdempotencyOptions): RequestHandler;
export function idempotency(a?: RedisKit | ExpressIdempotencyOptions, b?: ExpressIdempotencyOptions): RequestHandler {
  const engineFor = prepareIdempotency<Request>(a, b);
  return (req, res, next) => {
    let engine: IdempotencyEngine<Request>;
    try {
      engine = engineFor(() => getRedisKit(req));
    } catch (error) {
      next(error);
      return;
    }
    engine.begin(expressIdempotencyRequest(req)).then((decision) => {
      if (decision.action === 'respond') return writeIdempotencyResponse(res, decision.response);
      if (decision.action === 'proceed') decision.claim?.track(res);
      next();
    }, next);
  };
}
