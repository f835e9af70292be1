import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import 'reflect-metadata';
import Router from '@koa/router';
import { Req, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { RedisKit, SessionEngine, SessionOptions } from '@rediskit/core';
import { RedisSessionStore as ExpressStore } from '@rediskit/express';
import { RedisSessionStore as KoaStore } from '@rediskit/koa';
import { RedisKitModule, RedisSessionService } from '@rediskit/nestjs';
import express, { type Request, type Response } from 'express';
import session, { type SessionOptions as ExpressSessionOptions } from 'express-session';
import Koa from 'koa';
import koaSession from 'koa-session';
import { makeController, type AdapterName } from '../harness';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    views?: number;
  }
}

/** A latch a handler waits on, so a test can interleave two requests without sleeping. */
export interface Latch {
  /** Resolves once the handler is inside the slow route. */
  entered: Promise<void>;
  /** Lets the slow handler finish. */
  release(): void;
}

function latch(): Latch & { enter(): void; released: Promise<void> } {
  let enter!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((r) => (enter = r));
  const released = new Promise<void>((r) => (release = r));
  return { entered, enter, release, released };
}

export interface SessionAppOptions {
  /** Engine options (store or RedisKitModule.session). */
  session?: SessionOptions;
  /** Cookie maxAge in ms (express-session cookie.maxAge, koa-session maxAge). Default one hour. */
  maxAge?: number | 'session' | null;
  /** Extra express-session options (Express and Nest). */
  expressSession?: Partial<ExpressSessionOptions>;
  /** Extra koa-session options. */
  koaSession?: Record<string, unknown>;
}

/**
 * The same session routes on each adapter, listening on a loopback port:
 *
 *   POST /login?user=  GET /me  GET /sid  POST /visit  POST /logout
 *   POST /logout-everywhere  GET /sessions  POST /regenerate  POST /slow
 */
export interface SessionApp {
  adapter: AdapterName;
  /** Base URL for supertest. */
  url: string;
  engine: SessionEngine;
  /** The framework store (express-session or koa-session store). */
  store: ExpressStore | KoaStore;
  /** Name of the session cookie. */
  cookieName: string;
  /** Arms the next POST /slow: it increments views, then waits for release(). */
  armSlow(): Latch;
  close(): Promise<void>;
}

type Handlers = {
  login(user: string): Promise<unknown> | unknown;
  me(): unknown;
  sid(): unknown;
  visit(): unknown;
  logout(): Promise<unknown>;
  logoutEverywhere(): Promise<unknown>;
  sessions(): Promise<unknown>;
  regenerate(): Promise<unknown>;
  slow(): Promise<unknown>;
};

/** Express-flavoured handlers over req.session (used by Express and by Nest on Express). */
function expressHandlers(req: Request, store: () => ExpressStore, slow: () => ReturnType<typeof latch> | undefined): Handlers {
  const s = req.session;
  return {
    login: (user) =>
      new Promise((resolve, reject) =>
        // a new id at login (session fixation), then the user
        s.regenerate((err) => {
          if (err) return reject(err);
          req.session.userId = user;
          req.session.views = 0;
          resolve({ user });
        }),
      ),
    me: () => ({ user: s?.userId ?? null, views: s?.views ?? null }),
    sid: () => ({ sid: req.sessionID }),
    visit: () => {
      s.views = (s.views ?? 0) + 1;
      return { views: s.views };
    },
    logout: () => new Promise((resolve, reject) => s.destroy((err) => (err ? reject(err) : resolve({ ok: true })))),
    logoutEverywhere: async () => ({ revoked: await store().revokeSessions(s.userId!, { except: req.sessionID }) }),
    sessions: async () => ({
      sessions: (await store().listSessions(s.userId!, { current: req.sessionID })).map((x) => ({ handle: x.handle, current: x.current })),
    }),
    regenerate: () =>
      new Promise((resolve, reject) => {
        const { userId, views } = s;
        s.regenerate((err) => {
          if (err) return reject(err);
          Object.assign(req.session, { userId, views });
          resolve({ ok: true });
        });
      }),
    slow: async () => {
      s.views = (s.views ?? 0) + 1;
      const l = slow();
      l?.enter();
      await l?.released;
      return { views: s.views };
    },
  };
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

function expressSessionOptions(store: ExpressStore, options: SessionAppOptions): ExpressSessionOptions {
  const maxAge = options.maxAge === undefined ? 3_600_000 : options.maxAge;
  return {
    store,
    secret: 'test-secret',
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: typeof maxAge === 'number' ? maxAge : undefined, httpOnly: true, sameSite: 'lax' },
    ...options.expressSession,
  };
}

const ROUTES: Array<{ method: 'GET' | 'POST'; path: string; call: (h: Handlers, req: { query: Record<string, unknown> }) => unknown }> = [
  { method: 'POST', path: 'login', call: (h, req) => h.login(String(req.query['user'])) },
  { method: 'GET', path: 'me', call: (h) => h.me() },
  { method: 'GET', path: 'sid', call: (h) => h.sid() },
  { method: 'POST', path: 'visit', call: (h) => h.visit() },
  { method: 'POST', path: 'logout', call: (h) => h.logout() },
  { method: 'POST', path: 'logout-everywhere', call: (h) => h.logoutEverywhere() },
  { method: 'GET', path: 'sessions', call: (h) => h.sessions() },
  { method: 'POST', path: 'regenerate', call: (h) => h.regenerate() },
  { method: 'POST', path: 'slow', call: (h) => h.slow() },
];

export async function createSessionApp(adapter: AdapterName, kit: RedisKit, options: SessionAppOptions = {}): Promise<SessionApp> {
  let armed: ReturnType<typeof latch> | undefined;
  const armSlow = () => (armed = latch());
  const takeSlow = () => {
    const l = armed;
    armed = undefined;
    return l;
  };

  if (adapter === 'express') {
    const store = new ExpressStore(kit, options.session);
    const app = express();
    app.use(session(expressSessionOptions(store, options)));
    for (const route of ROUTES) {
      const register = route.method === 'GET' ? app.get.bind(app) : app.post.bind(app);
      register(`/${route.path}`, async (req: Request, res: Response, next: (e?: unknown) => void) => {
        try {
          res.json(await route.call(expressHandlers(req, () => store, takeSlow), req));
        } catch (error) {
          next(error);
        }
      });
    }
    const { server, url } = await listen(app);
    return { adapter, url, engine: store.engine, store, cookieName: 'connect.sid', armSlow, close: () => closeServer(server) };
  }

  if (adapter === 'koa') {
    const store = new KoaStore(kit, options.session);
    const app = new Koa();
    app.keys = ['test-key'];
    const maxAge = options.maxAge === undefined ? 3_600_000 : options.maxAge;
    app.use(koaSession({ store, ...(maxAge === null ? {} : { maxAge }), ...options.koaSession } as never, app));
    const router = new Router();
    const handlers = (ctx: Koa.Context): Handlers => {
      const current = () => ctx.session as unknown as Record<string, unknown> & { externalKey?: string; regenerate(): Promise<void> };
      return {
        login: (user) => {
          ctx.session = { userId: user, views: 0 } as never;
          return { user };
        },
        me: () => ({ user: current()?.['userId'] ?? null, views: current()?.['views'] ?? null }),
        sid: () => ({ sid: current()?.externalKey ?? null }),
        visit: () => {
          const s = current();
          s['views'] = Number(s['views'] ?? 0) + 1;
          return { views: s['views'] };
        },
        logout: async () => {
          ctx.session = null;
          return { ok: true };
        },
        logoutEverywhere: async () => ({
          revoked: await store.revokeSessions(String(current()['userId']), { except: current().externalKey! }),
        }),
        sessions: async () => ({
          sessions: (await store.listSessions(String(current()['userId']), { current: current().externalKey! })).map((x) => ({
            handle: x.handle,
            current: x.current,
          })),
        }),
        regenerate: async () => {
          await current().regenerate();
          return { ok: true };
        },
        slow: async () => {
          const s = current();
          s['views'] = Number(s['views'] ?? 0) + 1;
          const l = takeSlow();
          l?.enter();
          await l?.released;
          return { views: s['views'] };
        },
      };
    };
    for (const route of ROUTES) {
      const register = route.method === 'GET' ? router.get.bind(router) : router.post.bind(router);
      register(`/${route.path}`, async (ctx) => {
        ctx.body = await route.call(handlers(ctx as unknown as Koa.Context), { query: ctx.query });
      });
    }
    app.use(router.routes());
    const { server, url } = await listen(app.callback());
    return { adapter, url, engine: store.engine, store, cookieName: 'koa.sess', armSlow, close: () => closeServer(server) };
  }

  // NestJS on Express: RedisKitModule provides the session service; main.ts-style
  // app.use(session({ store })) with the service's engine.
  let nest!: INestApplication;
  let store!: ExpressStore;
  const controller = makeController(
    '',
    ROUTES.map((route) => ({
      method: route.method,
      path: route.path,
      params: [Req()],
      status: 200,
      handler: (req: Request) => route.call(expressHandlers(req, () => store, takeSlow), req),
    })),
  );
  const moduleRef = await Test.createTestingModule({
    imports: [RedisKitModule.forRoot({ kit, ...(options.session ? { session: options.session } : {}) })],
    controllers: [controller],
  }).compile();
  nest = moduleRef.createNestApplication({ logger: false });
  store = new ExpressStore(nest.get(RedisSessionService).engine);
  nest.use(session(expressSessionOptions(store, options)));
  await nest.init();
  await nest.listen(0, '127.0.0.1');
  const address = nest.getHttpServer().address() as AddressInfo;
  return {
    adapter,
    url: `http://127.0.0.1:${address.port}`,
    engine: store.engine,
    store,
    cookieName: 'connect.sid',
    armSlow,
    close: () => nest.close(),
  };
}
