import { HttpCode, HttpException, Req, type INestApplication, type Type } from '@nestjs/common';
import Router from '@koa/router';
import type { HttpRateLimitOptions, RedisKit } from '@rediskit/core';
import * as rkExpress from '@rediskit/express';
import * as rkKoa from '@rediskit/koa';
import { RateLimit, RedisKitModule, type RateLimitOptions } from '@rediskit/nestjs';
import express from 'express';
import Koa from 'koa';
import type { Server } from 'node:http';
import { createServer, request, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNestApp, makeController, type AdapterName, type NestRouteSpec } from '../harness';

/** What a test route answers: a status (default 200) and a JSON body. */
export interface Reply {
  status?: number;
  body?: unknown;
}

/** Reads a request header the same way for Express `req`, Koa `ctx` and Nest's `req`. */
export function header(r: { headers: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** One route of a test app, built identically for every adapter. */
export interface RouteSpec {
  method: 'GET' | 'POST';
  path: string;
  /** The route's limiter; undefined leaves the route unlimited (or to app-wide limits / Nest defaults). */
  limit?: HttpRateLimitOptions;
  /** Answer, from the request's headers; may wait (concurrency tests). */
  reply?: (headers: Record<string, string | string[] | undefined>) => Reply | Promise<Reply>;
  /** Nest only: extra decorators on the handler (`@SkipRateLimit()`, ...). */
  nestDecorators?: MethodDecorator[];
}

export interface AppSpec {
  routes: RouteSpec[];
  /** A limiter on the whole app (Express/Koa `app.use`); for Nest, the module's `rateLimit` defaults plus a global guard. */
  appLimit?: HttpRateLimitOptions;
  /** Trust one proxy hop, so X-Forwarded-For sets the client address (all adapters alike). */
  trustProxy?: boolean | number;
  /** Nest only: module defaults without a global guard. */
  nestDefaults?: RateLimitOptions;
  /** Nest only: class decorators of the controller. */
  nestClassDecorators?: ClassDecorator[];
  /** Nest only: replaces RateLimitGuard (a subclass with hooks). */
  nestGuard?: Type<unknown>;
}

export interface RunningApp {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

async function listen(handler: RequestListener | Server): Promise<{ server: Server; url: string }> {
  const server: Server = typeof handler === 'function' ? createServer(handler) : handler;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Builds and starts the same app on one adapter. */
export async function startApp(adapter: AdapterName, kit: RedisKit, spec: AppSpec): Promise<RunningApp> {
  if (adapter === 'express') {
    const app = express();
    if (spec.trustProxy !== undefined) app.set('trust proxy', spec.trustProxy);
    rkExpress.attachRedisKit(app, kit);
    if (spec.appLimit) app.use(rkExpress.rateLimit(spec.appLimit));
    for (const r of spec.routes) {
      const handlers: express.RequestHandler[] = [];
      if (r.limit) handlers.push(rkExpress.rateLimit(r.limit));
      handlers.push(async (req, res) => {
        const out = r.reply ? await r.reply(req.headers) : {};
        res.status(out.status ?? 200).json(out.body ?? { ok: true });
      });
      if (r.method === 'GET') app.get(r.path, ...handlers);
      else app.post(r.path, ...handlers);
    }
    const { server, url } = await listen(app);
    return { url, server, close: () => closeServer(server) };
  }
  if (adapter === 'koa') {
    const app = new Koa();
    if (spec.trustProxy !== undefined && spec.trustProxy !== false) {
      app.proxy = true;
      app.maxIpsCount = spec.trustProxy === true ? 0 : spec.trustProxy;
    }
    rkKoa.attachRedisKit(app, kit);
    if (spec.appLimit) app.use(rkKoa.rateLimit(spec.appLimit));
    const router = new Router();
    for (const r of spec.routes) {
      const handlers: Koa.Middleware[] = [];
      if (r.limit) handlers.push(rkKoa.rateLimit(r.limit));
      handlers.push(async (ctx) => {
        const out = r.reply ? await r.reply(ctx.headers) : {};
        ctx.status = out.status ?? 200;
        ctx.body = out.body ?? { ok: true };
      });
      if (r.method === 'GET') router.get(r.path, ...handlers);
      else router.post(r.path, ...handlers);
    }
    app.use(router.routes());
    const { server, url } = await listen(app.callback());
    return { url, server, close: () => closeServer(server) };
  }
  const routes: NestRouteSpec[] = spec.routes.map((r) => ({
    method: r.method,
    path: r.path.replace(/^\//, ''),
    params: [Req()],
    decorators: [...(r.limit ? [RateLimit(r.limit)] : []), ...(r.nestDecorators ?? []), HttpCode(200)],
    handler: async (req: { headers: Record<string, string | string[] | undefined> }) => {
      const out = r.reply ? await r.reply(req.headers) : {};
      // Nest sets the status of a returned value itself; errors go through its exception layer.
      if ((out.status ?? 200) >= 400) throw new HttpException(out.body ?? { ok: true }, out.status!);
      return out.body ?? { ok: true };
    },
  }));
  const controller = makeController('', routes, spec.nestClassDecorators ?? []);
  // An app-wide limiter in Express and Koa is one bucket for all routes; in Nest, module defaults with perRoute: false.
  const defaults = spec.appLimit ? { perRoute: false, ...spec.appLimit } : spec.nestDefaults;
  const providers: unknown[] = [];
  if (spec.appLimit || spec.nestGuard) {
    const { APP_GUARD } = await import('@nestjs/core');
    const { RateLimitGuard } = await import('@rediskit/nestjs');
    providers.push({ provide: APP_GUARD, useClass: spec.nestGuard ?? RateLimitGuard });
  }
  const app: INestApplication = await createNestApp({
    imports: [RedisKitModule.forRoot({ kit, ...(defaults ? { rateLimit: defaults } : {}) })],
    controllers: [controller],
    providers,
  });
  if (spec.trustProxy !== undefined) (app.getHttpAdapter().getInstance() as express.Application).set('trust proxy', spec.trustProxy);
  const { server, url } = await listen(app.getHttpServer() as Server);
  return {
    url,
    server,
    close: async () => {
      server.closeAllConnections?.();
      await app.close();
    },
  };
}

/** A response as a test reads it. */
export interface Hit {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** Sends one request on a connection of its own (no keep-alive), so requests never wait on each other. */
export function hit(url: string, path: string, options: { method?: string; headers?: Record<string, string>; abortAfterHeaders?: boolean } = {}): Promise<Hit> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts a request; the returned function drops its connection (the client goes away). */
export function startRequest(url: string, path: string, headers: Record<string, string> = {}): () => void {
  const req = request(`${url}${path}`, { method: 'GET', headers, agent: false });
  req.on('error', () => {});
  req.end();
  return () => req.destroy();
}
