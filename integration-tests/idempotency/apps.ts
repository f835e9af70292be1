import { Controller, Get, HttpCode, Post, Req, Res, type INestApplication } from '@nestjs/common';
import bodyParser from '@koa/bodyparser';
import Router from '@koa/router';
import type { IdempotencyOptions, RedisKit } from '@rediskit/core';
import * as rkExpress from '@rediskit/express';
import * as rkKoa from '@rediskit/koa';
import { Idempotent, RedisKitModule } from '@rediskit/nestjs';
import express from 'express';
import Koa from 'koa';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createNestApp, type AdapterName } from '../harness';

/** What a test route answers; each adapter writes it its own way. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  chunks?: Buffer[];
}

export type RouteName = keyof typeof ROUTES;
type Impl = (input: { body: unknown; headers: IncomingHttpHeaders; n: number }) => Reply | Promise<Reply>;

/**
 * Routes every adapter app has, with the middleware options of each. Nest
 * routes marked `return` return the JSON (the usual Nest style, status from
 * `@HttpCode`); `res` routes write through `@Res()`.
 */
export const ROUTES = {
  orders: { path: '/orders', options: { required: true }, nest: 'return' },
  ordersWait: { path: '/orders-wait', options: { required: true, wait: true, waitTimeout: 20_000 }, nest: 'return' },
  optional: { path: '/optional', options: {}, nest: 'return' },
  flaky: { path: '/flaky', options: { required: true }, nest: 'return' },
  status: { path: '/status', options: { required: true }, nest: 'res' },
  stream: { path: '/stream', options: { required: true, maxResponseBytes: 64 << 10 }, nest: 'res' },
  streamRelease: { path: '/stream-release', options: { required: true, maxResponseBytes: 64 << 10, oversize: 'release' }, nest: 'res' },
  lease: { path: '/lease', options: { required: true, lease: 1200 }, nest: 'return' },
  retention: { path: '/retention', options: { required: true, retention: 400 }, nest: 'return' },
  fields: { path: '/fields', options: { required: true, ignoreFields: ['sentAt'] }, nest: 'return' },
} satisfies Record<string, { path: string; options: IdempotencyOptions<any>; nest: 'return' | 'res' }>;

const created: Impl = ({ body, n }) => ({
  status: 201,
  headers: {
    location: `/orders/${n}`,
    etag: `"v${n}"`,
    'cache-control': 'private, max-age=0',
    'set-cookie': `sid=s${n}; Path=/; HttpOnly`,
    'x-trace': `t${n}`,
  },
  json: { id: n, body },
});

function defaults(): Record<RouteName, Impl> {
  return {
    orders: created,
    ordersWait: created,
    optional: created,
    flaky: (input) => {
      if (input.n === 1) throw new Error('boom');
      return created(input);
    },
    status: ({ body, n }) => ({ status: Number((body as { status: number }).status), json: { n } }),
    stream: ({ body }) => streamed(body),
    streamRelease: ({ body }) => streamed(body),
    lease: created,
    retention: created,
    fields: created,
  };
}

function streamed(body: unknown): Reply {
  const { chunks, size } = body as { chunks: number; size: number };
  return {
    status: 200,
    headers: { 'content-type': 'application/octet-stream' },
    chunks: Array.from({ length: chunks }, (_, i) => Buffer.alloc(size, (i * 7 + 1) % 256)),
  };
}

/** Handler calls, swappable implementations and gates, shared by one app's routes. */
export class Control {
  readonly calls: Record<string, number> = {};
  impl = defaults();
  private readonly gates = new Map<string, { promise: Promise<void>; open(): void }>();

  /** Holds the route's handlers until `open()` (after they have counted their call). */
  gate(route: RouteName): { open(): void } {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    const gate = {
      promise,
      open: () => {
        this.gates.delete(route);
        open();
      },
    };
    this.gates.set(route, gate);
    return gate;
  }

  reset(): void {
    for (const g of [...this.gates.values()]) g.open();
    this.impl = defaults();
    for (const k of Object.keys(this.calls)) delete this.calls[k];
  }

  async run(route: RouteName, body: unknown, headers: IncomingHttpHeaders): Promise<Reply> {
    const n = (this.calls[route] = (this.calls[route] ?? 0) + 1);
    const gate = this.gates.get(route);
    if (gate) await gate.promise;
    return this.impl[route]({ body, headers, n });
  }
}

export interface TestApp {
  url: string;
  control: Control;
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

function writeNode(res: express.Response, reply: Reply): void {
  res.status(reply.status);
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (reply.chunks) Readable.from(reply.chunks).pipe(res);
  else if (reply.json !== undefined) res.json(reply.json);
  else res.end();
}

/**
 * One app per adapter with every route of {@link ROUTES} behind the
 * idempotency middleware (and a GET /orders with it, which must pass
 * through), listening on a loopback port.
 */
export async function buildApp(adapter: AdapterName, kit: RedisKit, common: IdempotencyOptions<any> = {}): Promise<TestApp> {
  const control = new Control();
  const names = Object.keys(ROUTES) as RouteName[];
  if (adapter === 'express') {
    const app = express();
    app.use(express.json());
    app.use(express.urlencoded({ extended: false }));
    app.use(express.text());
    rkExpress.attachRedisKit(app, kit);
    app.get('/orders', rkExpress.idempotency(common), (_req, res) => {
      res.json({ listed: (control.calls.list = (control.calls.list ?? 0) + 1) });
    });
    for (const name of names) {
      app.post(ROUTES[name].path, rkExpress.idempotency({ ...common, ...ROUTES[name].options }), async (req, res, next) => {
        try {
          writeNode(res, await control.run(name, req.body, req.headers));
        } catch (error) {
          next(error);
        }
      });
    }
    app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ error: 'boom' });
    });
    const server = createServer(app);
    return { url: await listen(server), control, close: () => closeServer(server) };
  }
  if (adapter === 'koa') {
    const app = new Koa();
    app.silent = true;
    app.use(bodyParser({ enableTypes: ['json', 'form', 'text'] }));
    rkKoa.attachRedisKit(app, kit);
    const router = new Router();
    router.get('/orders', rkKoa.idempotency(common), (ctx) => {
      ctx.body = { listed: (control.calls.list = (control.calls.list ?? 0) + 1) };
    });
    for (const name of names) {
      router.post(ROUTES[name].path, rkKoa.idempotency({ ...common, ...ROUTES[name].options }), async (ctx) => {
        const reply = await control.run(name, ctx.request.body, ctx.headers);
        ctx.status = reply.status;
        for (const [n, v] of Object.entries(reply.headers ?? {})) ctx.set(n, v);
        if (reply.chunks) ctx.body = Readable.from(reply.chunks);
        else if (reply.json !== undefined) ctx.body = reply.json;
      });
    }
    app.use(router.routes());
    const server = createServer(app.callback());
    return { url: await listen(server), control, close: () => closeServer(server) };
  }
  const nest = await nestApp(kit, common, control);
  const server = nest.getHttpServer() as Server;
  await nest.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    control,
    close: async () => {
      server.closeAllConnections?.();
      await nest.close();
    },
  };
}

async function nestApp(kit: RedisKit, common: IdempotencyOptions<any>, control: Control): Promise<INestApplication> {
  class Routes {}
  const proto = Routes.prototype as unknown as Record<string, unknown>;
  const define = (name: string, fn: (...args: any[]) => unknown, decorators: MethodDecorator[], params: ParameterDecorator[]) => {
    Object.defineProperty(fn, 'name', { value: name });
    proto[name] = fn;
    Reflect.defineMetadata('design:paramtypes', params.map(() => Object), Routes.prototype, name);
    params.forEach((p, i) => p(Routes.prototype, name, i));
    const descriptor = Object.getOwnPropertyDescriptor(Routes.prototype, name)!;
    for (const d of [...decorators].reverse()) {
      const next = d(Routes.prototype, name, descriptor);
      if (next) Object.defineProperty(Routes.prototype, name, next);
    }
  };
  define('list', () => ({ listed: (control.calls.list = (control.calls.list ?? 0) + 1) }), [Get('orders'), Idempotent()], []);
  for (const name of Object.keys(ROUTES) as RouteName[]) {
    const route = ROUTES[name];
    const decorators = [Post(route.path.slice(1)), Idempotent(route.options)];
    if (route.nest === 'return') {
      define(
        name,
        async (req: express.Request, res: express.Response) => {
          const reply = await control.run(name, req.body, req.headers);
          for (const [n, v] of Object.entries(reply.headers ?? {})) res.setHeader(n, v);
          return reply.json;
        },
        [...decorators, HttpCode(201)],
        [Req(), Res({ passthrough: true })],
      );
    } else {
      define(
        name,
        async (req: express.Request, res: express.Response) => writeNode(res, await control.run(name, req.body, req.headers)),
        decorators,
        [Req(), Res()],
      );
    }
  }
  Controller()(Routes);
  return createNestApp({ imports: [RedisKitModule.forRoot({ kit, idempotency: common })], controllers: [Routes] });
}
