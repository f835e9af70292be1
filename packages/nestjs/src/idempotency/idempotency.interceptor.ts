import {
  Inject,
  Injectable,
  Optional,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA, RESPONSE_PASSTHROUGH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import {
  IdempotencyEngine,
  resolveIdempotencyOptions,
  writeIdempotencyResponse,
  type IdempotencyClaim,
  type IdempotencyOptions,
  type IdempotencyRequest,
  type IdempotencyResponse,
  type RedisKit,
} from '@rediskit/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { from, mergeMap, Observable, of } from 'rxjs';
import { REDISKIT, REDISKIT_OPTIONS } from '../rediskit.constants';
import type { RedisKitModuleOptions } from '../rediskit.module-definition';
import { IDEMPOTENT } from './idempotent.metadata';

type ExpressLikeRequest = IncomingMessage & {
  originalUrl?: string;
  body?: unknown;
  rawBody?: Buffer;
  user?: unknown;
  session?: { user?: unknown; userId?: unknown };
};

const NO_BODY = new Set([204, 205, 304]);

/**
 * Runs `@Idempotent()` routes through the idempotency engine (NestJS 12 on
 * the Express platform). Replays and problems are returned as a web
 * `Response`, which Nest sends with its exact status, headers and bytes.
 * Extend it and override the `protected` hooks to change how a request is
 * read or which options a route gets.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly engines = new Map<object, IdempotencyEngine<any>>();
  protected readonly defaults: IdempotencyOptions<any>;

  constructor(
    @Inject(REDISKIT) protected readonly kit: RedisKit,
    @Inject(REDISKIT_OPTIONS) moduleOptions: RedisKitModuleOptions,
    protected readonly reflector: Reflector,
    @Optional() protected readonly adapterHost?: HttpAdapterHost,
  ) {
    this.defaults = moduleOptions?.idempotency ?? {};
    resolveIdempotencyOptions(this.defaults, 'RedisKitModule.idempotency');
  }

  /** The route's `@Idempotent()` options (method over class), or undefined when it has none. */
  protected routeOptions(context: ExecutionContext): IdempotencyOptions<any> | undefined {
    return this.reflector.getAllAndOverride(IDEMPOTENT, [context.getHandler(), context.getClass()]);
  }

  /** The engine's view of the request: Nest's built-in body parser leaves JSON and forms in `req.body`, `rawBody: true` keeps bytes. */
  protected toRequest(req: ExpressLikeRequest): IdempotencyRequest<ExpressLikeRequest> {
    const url = req.originalUrl ?? req.url ?? '/';
    const q = url.indexOf('?');
    return {
      method: req.method ?? 'GET',
      path: q === -1 ? url : url.slice(0, q),
      ...(q === -1 ? {} : { query: url.slice(q + 1) }),
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: req.body,
      ...(Buffer.isBuffer(req.rawBody) ? { rawBody: req.rawBody } : {}),
      user: req.user ?? req.session?.user ?? req.session?.userId,
      native: req,
    };
  }

  /** A replay or problem as the web `Response` Nest sends as is. */
  protected toWebResponse(response: IdempotencyResponse): Response {
    const headers = new Headers();
    for (const [name, value] of response.headers) headers.append(name, value);
    const body = NO_BODY.has(response.status) || response.body.length === 0 ? null : new Uint8Array(response.body);
    return new Response(body, { status: response.status, headers });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = context.getType() === 'http' ? this.routeOptions(context) : undefined;
    if (options === undefined) return next.handle();
    const engine = this.engineFor(context.getHandler(), options);
    const req = context.switchToHttp().getRequest<ExpressLikeRequest>();
    const res = context.switchToHttp().getResponse<ServerResponse>();
    return from(engine.begin(this.toRequest(req))).pipe(
      mergeMap((decision) => {
        if (decision.action === 'respond') {
          if (!this.nestSendsResponse(context)) {
            // `@Res()` without passthrough: Nest sends nothing the chain returns.
            writeIdempotencyResponse(res, decision.response);
            return of(undefined);
          }
          return of(this.toWebResponse(decision.response));
        }
        if (decision.action === 'pass' || !decision.claim) return next.handle();
        return this.run(context, next, decision.claim, req, res);
      }),
    );
  }

  /** False for handlers that take `@Res()` / `@Next()` without passthrough (they write the response themselves). */
  protected nestSendsResponse(context: ExecutionContext): boolean {
    const cls = context.getClass();
    const handler = context.getHandler();
    // The method's property name, as Nest found it (a function's own name can differ).
    let name: string | undefined;
    for (let proto = cls.prototype as object | null; proto && !name; proto = Object.getPrototypeOf(proto) as object | null) {
      name = Object.getOwnPropertyNames(proto).find((n) => Object.getOwnPropertyDescriptor(proto!, n)?.value === handler);
    }
    name ??= handler.name;
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, cls, name) ?? {}) as Record<string, unknown>;
    const takesResponse = Object.keys(args).some((key) => {
      const type = Number(key.split(':')[0]);
      return type === RouteParamtypes.RESPONSE || type === RouteParamtypes.NEXT;
    });
    return !takesResponse || Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, cls, name) === true;
  }

  private engineFor(handler: object, options: IdempotencyOptions<any>): IdempotencyEngine<any> {
    let engine = this.engines.get(handler);
    if (!engine) {
      const merged = resolveIdempotencyOptions({ ...this.defaults, ...options }, '@Idempotent');
      engine = new IdempotencyEngine(this.kit, merged);
      this.engines.set(handler, engine);
    }
    return engine;
  }

  // Nest tears the chain down when the client leaves (its result is not
  // sent), but the handler goes on; its result is then sent into the closed
  // response the way Nest would have, so the claim stores it for the retry.
  private run(context: ExecutionContext, next: CallHandler, claim: IdempotencyClaim, req: ExpressLikeRequest, res: ServerResponse): Observable<unknown> {
    claim.track(res);
    return new Observable<unknown>((subscriber) => {
      let last: unknown;
      let gone = false;
      const subscription = next.handle().subscribe({
        next: (value) => {
          last = value;
          if (!gone) subscriber.next(value);
        },
        error: (error: unknown) => {
          // Released before the exception filter answers, so a retry runs again.
          void claim.release('error').then(() => {
            if (!gone) subscriber.error(error);
          });
        },
        complete: () => {
          if (gone && !res.writableEnded) {
            const status = (Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) as number | undefined) ?? (req.method === 'POST' ? 201 : 200);
            Promise.resolve()
              .then(() => this.adapterHost?.httpAdapter.reply(res, last, status))
              .catch(() => claim.release('aborted'))
              .finally(() => claim.handlerDone());
            return;
          }
          // Nest (or its exception filter) writes the response; the claim follows it.
          subscriber.complete();
        },
      });
      return () => {
        if (!subscription.closed) gone = true;
      };
    });
  }
}
