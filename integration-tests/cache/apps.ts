import { parseList } from 'structured-headers';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Req, Res, type INestApplication } from '@nestjs/common';
import Router from '@koa/router';
import type { CacheRouteOptions, RedisKit } from '@rediskit/core';
import * as rkExpress from '@rediskit/express';
import * as rkKoa from '@rediskit/koa';
import { Cacheable, CacheTags, InvalidateTags, RedisKitModule, type TagSource } from '@rediskit/nestjs';
import express from 'express';
import Koa from 'koa';
import type { AdapterName } from '../harness';
import { createNestApp, makeController } from '../harness';

/** What a test handler answers, rendered with each framework's own API. */
export interface Reply {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** A string, a Buffer, or an object sent as JSON. */
  body?: string | Buffer | object;
  /** Written with `res.write` chunk by chunk, then `res.end()`. */
  chunks?: Buffer[];
  /** Piped into the response. */
  stream?: () => Readable;
  /** Added with the adapter's addCacheTags. */
  tags?: string[];
  /** Throw instead of answering (the framework's error handling answers 500). */
  throws?: boolean;
}

export interface RouteInput {
  params: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  method: string;
  url: string;
}

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Express-style path: `/items/:id`. */
  path: string;
  /** Cache options of the route; false for none. Functions get `s.params` on every adapter. */
  cache?: CacheRouteOptions<any> | false;
  /** Nest only: `@CacheTags()` / `@InvalidateTags()`. */
  nestTags?: TagSource[];
  nestInvalidate?: TagSource[];
  handler: (input: RouteInput) => Reply | Promise<Reply>;
}

export interface TestApp {
  server: Server;
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<TestApp> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function writeExpress(res: express.Response, reply: Reply): void {
  res.status(reply.status ?? 200);
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (reply.tags) rkExpress.addCacheTags(res, reply.tags);
  if (reply.chunks) {
    for (const c of reply.chunks) res.write(c);
    res.end();
  } else if (reply.stream) {
    reply.stream().pipe(res);
  } else if (Buffer.isBuffer(reply.body) || typeof reply.body === 'string') {
    res.send(reply.body);
  } else if (reply.body !== undefined) {
    res.json(reply.body);
  } else {
    res.end();
  }
}

function expressApp(kit: RedisKit, routes: RouteSpec[]): express.Express {
  const app = express();
  rkExpress.attachRedisKit(app, kit);
  for (const r of routes) {
    const handlers: express.RequestHandler[] = [];
    if (r.cache !== false) handlers.push(rkExpress.cache(r.cache ?? {}));
    handlers.push(async (req, res, next) => {
      try {
        const reply = await r.handler({
          params: req.params as Record<string, string>,
          headers: req.headers,
          method: req.method,
          url: req.originalUrl,
        });
        if (reply.throws) throw new Error('origin failed');
        writeExpress(res, reply);
      } catch (error) {
        next(error);
      }
    });
    app[r.method.toLowerCase() as 'get'](r.path, ...handlers);
  }
  app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: 'origin failed' });
  });
  return app;
}

function koaApp(kit: RedisKit, routes: RouteSpec[]): Koa {
  const app = new Koa();
  app.silent = true;
  rkKoa.attachRedisKit(app, kit);
  const router = new Router();
  for (const r of routes) {
    const mws: Koa.Middleware[] = [];
    if (r.cache !== false) mws.push(rkKoa.cache(r.cache ?? {}));
    mws.push(async (ctx) => {
      const reply = await r.handler({ params: ctx.params as Record<string, string>, headers: ctx.headers, method: ctx.method, url: ctx.originalUrl });
      if (reply.throws) throw new Error('origin failed');
      if (reply.tags) rkKoa.addCacheTags(ctx, reply.tags);
      ctx.status = reply.status ?? 200;
      for (const [name, value] of Object.entries(reply.headers ?? {})) ctx.set(name, value);
      if (reply.chunks) {
        ctx.respond = false;
        ctx.res.statusCode = ctx.status;
        for (const c of reply.chunks) ctx.res.write(c);
        ctx.res.end();
      } else if (reply.stream) {
        ctx.body = reply.stream();
      } else if (reply.body !== undefined) {
        const type = ctx.response.get('content-type');
        ctx.body = reply.body;
        if (type) ctx.type = type;
      }
    });
    router[r.method.toLowerCase() as 'get'](r.path, ...mws);
  }
  app.use(router.routes());
  return app;
}

async function nestApp(kit: RedisKit, routes: RouteSpec[]): Promise<INestApplication> {
  const controller = makeController(
    '',
    routes.map((r) => {
      const decorators: MethodDecorator[] = [];
      if (r.cache !== false) decorators.push(Cacheable(r.cache ?? {}));
      if (r.nestTags) decorators.push(CacheTags(...r.nestTags));
      if (r.nestInvalidate) decorators.push(InvalidateTags(...r.nestInvalidate));
      return {
        method: r.method,
        path: r.path.slice(1),
        params: [Req(), Res()],
        decorators,
        handler: async (req: express.Request, res: express.Response) => {
          try {
            const reply = await r.handler({
              params: req.params as Record<string, string>,
              headers: req.headers,
              method: req.method,
              url: req.originalUrl,
            });
            if (reply.throws) throw new Error('origin failed');
            writeExpress(res, reply);
          } catch {
            res.status(500).json({ error: 'origin failed' });
          }
        },
      };
    }),
  );
  return createNestApp({ imports: [RedisKitModule.forRoot({ kit })], controllers: [controller] });
}

/** Builds and starts the same routes on one adapter. */
export async function startApp(adapter: AdapterName, kit: RedisKit, routes: RouteSpec[]): Promise<TestApp> {
  if (adapter === 'express') return listen(createServer(expressApp(kit, routes)));
  if (adapter === 'koa') return listen(createServer(koaApp(kit, routes).callback()));
  const app = await nestApp(kit, routes);
  const started = await listen(createServer(app.getHttpAdapter().getInstance()));
  return {
    ...started,
    close: async () => {
      await started.close();
      await app.close();
    },
  };
}

/** A gate a handler waits on until the test opens it. */
export function latch(): { wait: Promise<void>; open(): void; entered: Promise<void>; enter(): void } {
  let open!: () => void;
  let enter!: () => void;
  const wait = new Promise<void>((r) => {
    open = r;
  });
  const entered = new Promise<void>((r) => {
    enter = r;
  });
  return { wait, open, entered, enter };
}

/** The parameters of the first `Cache-Status` member, parsed as RFC 9211 says (structured fields). */
export function cacheStatus(headers: Record<string, string | string[] | undefined>): {
  cache: string;
  hit: boolean;
  fwd?: string;
  ttl?: number;
  collapsed?: boolean;
  detail?: string;
  fwdStatus?: number;
} {
  const raw = headers['cache-status'];
  if (typeof raw !== 'string') throw new Error(`no Cache-Status header; headers: ${JSON.stringify(headers)}`);
  const [item] = parseList(raw) as Array<[unknown, Map<string, unknown>]>;
  const [name, params] = item!;
  const fwd = params.get('fwd');
  return {
    cache: String(name),
    hit: params.get('hit') === true,
    ...(fwd !== undefined ? { fwd: String(fwd) } : {}),
    ...(params.has('ttl') ? { ttl: params.get('ttl') as number } : {}),
    ...(params.has('collapsed') ? { collapsed: params.get('collapsed') as boolean } : {}),
    ...(params.has('detail') ? { detail: String(params.get('detail')) } : {}),
    ...(params.has('fwd-status') ? { fwdStatus: params.get('fwd-status') as number } : {}),
  };
}
