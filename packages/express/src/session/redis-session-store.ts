import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import {
  RedisKitError,
  SessionEngine,
  type RedisKit,
  type SessionInfo,
  type SessionOptions,
  type SessionRecord,
} from '@rediskit/core';
import type { Request } from 'express';
import type { Session, SessionData, Store } from 'express-session';

type Done<T> = (err: any, value?: T) => void;
type ExpressSessionModule = { Store: { prototype: Store } };

let expressSessionModule: ExpressSessionModule | undefined;
const SKIPPED: Promise<unknown> = Promise.resolve('skipped');

/**
 * express-session, loaded when express-session first calls the store (never
 * at import: it is an optional peer of this package).
 */
function expressSession(): ExpressSessionModule {
  if (expressSessionModule) return expressSessionModule;
  try {
    // __filename in the CommonJS build; import.meta.url in the ES module build
    // (a bare `require` would be a bundler shim that refuses dynamic requires).
    const here = typeof __filename === 'string' ? __filename : import.meta.url;
    expressSessionModule = createRequire(here)('express-session') as ExpressSessionModule;
    return expressSessionModule;
  } catch (error) {
    throw new RedisKitError('ERR_REDISKIT_PEER_MISSING', 'RedisSessionStore needs express-session: npm install express-session', {
      cause: error,
    });
  }
}

/** Calls a node-style callback outside the promise chain (a throwing callback must not become an unhandled rejection). */
function settle<T>(promise: Promise<T>, done?: Done<T>): Promise<T | undefined> {
  if (!done) return promise;
  return promise.then(
    (value) => {
      process.nextTick(done, null, value);
      return value;
    },
    (error: unknown) => {
      process.nextTick(done, error);
      return undefined;
    },
  );
}

/**
 * An express-session store on rediskit: milliseconds TTLs, touch that
 * rewrites `cookie.expires`, logouts that in-flight requests cannot undo,
 * per-user listing and "log out everywhere", optional encryption at rest,
 * and Cluster-wide `all`/`ids`/`length`/`clear`. Every method takes a
 * callback or returns a promise.
 *
 * It emits `disconnect` when Redis goes away and `connect` when it is back,
 * so express-session serves requests without a session meanwhile instead of
 * waiting.
 *
 * @example
 * const kit = createRedisKit({ url: process.env.REDIS_URL, prefix: 'shop' });
 * app.use(session({
 *   store: new RedisSessionStore(kit, { absoluteLifetime: 7 * 86_400_000 }),
 *   secret: process.env.SESSION_SECRET!, resave: false, saveUninitialized: false,
 *   cookie: { maxAge: 3_600_000, httpOnly: true, sameSite: 'lax' },
 * }));
 * app.post('/logout-everywhere', async (req, res) => {
 *   await (req.sessionStore as RedisSessionStore).revokeSessions(req.session.userId, { except: req.sessionID });
 *   res.sendStatus(204);
 * });
 */
export class RedisSessionStore extends EventEmitter implements Store {
  /** The engine doing the Redis work (shared with a Nest `RedisSessionService` or a Koa store if you pass it). */
  readonly engine: SessionEngine;
  /** Installed by express-session when the store is passed to `session()`. */
  generate!: (req: Request) => void;
  /** Sessions express-session built from a stored value (createSession), as opposed to new ones. */
  private readonly loaded = new WeakSet<object>();
  /** Session objects a save was sent for. */
  private readonly saved = new WeakSet<object>();

  /** `new RedisSessionStore(kit, options)`, or `new RedisSessionStore(engine)` to share an engine. */
  constructor(kitOrEngine: RedisKit | SessionEngine, options?: SessionOptions) {
    super();
    if (kitOrEngine instanceof SessionEngine) {
      if (options !== undefined) {
        throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', 'RedisSessionStore: options belong to the engine when you pass one', {
          details: { option: 'RedisSessionStore.options' },
        });
      }
      this.engine = kitOrEngine;
    } else {
      this.engine = new SessionEngine(kitOrEngine, options, 'RedisSessionStore');
    }
    const kit = this.engine.kit;
    kit.events.on('ready', () => this.emit('connect'));
    kit.events.on('degraded', () => this.emit('disconnect'));
    kit.events.on('closed', () => this.emit('disconnect'));
    // express-session subscribes right after construction; tell it once if Redis is not there yet.
    if (kit.state !== 'ready') {
      process.nextTick(() => {
        if (kit.state !== 'ready') this.emit('disconnect');
      });
    }
  }

  /** True while requests reach Redis. */
  get connected(): boolean {
    return this.engine.kit.available;
  }

  get(sid: string, callback?: Done<SessionData | null>): Promise<SessionData | null | undefined> {
    return settle(this.engine.get(sid) as Promise<SessionData | null>, callback);
  }

  set(sid: string, session: SessionData, callback?: (err?: any) => void): Promise<unknown> {
    if (session !== null && typeof session === 'object') this.saved.add(session);
    return settle(this.engine.set(sid, session as unknown as SessionRecord), callback);
  }

  touch(sid: string, session: SessionData, callback?: (err?: any) => void): Promise<unknown> {
    // A skipped touch (the stored expiry is fresh) answers in the same tick:
    // express-session then ends the response in one write with a
    // Content-Length, instead of flushing a chunked body now and its end after
    // the callback.
    if (this.engine.skipTouch(sid, session as unknown as SessionRecord)) {
      callback?.();
      return SKIPPED;
    }
    return settle(this.engine.touch(sid, session as unknown as SessionRecord), callback);
  }

  destroy(sid: string, callback?: (err?: any) => void): Promise<unknown> {
    return settle(this.engine.destroy(sid), callback);
  }

  /** Every session, each with its `id` (SCAN over every master). */
  all(callback?: Done<SessionData[]>): Promise<SessionData[] | undefined> {
    const all = this.engine.all().then((rows) => rows.map(({ id, session }) => ({ ...session, id }) as unknown as SessionData));
    return settle(all, callback);
  }

  /** Every session id (SCAN over every master). */
  ids(callback?: Done<string[]>): Promise<string[] | undefined> {
    return settle(this.engine.ids(), callback);
  }

  length(callback?: Done<number>): Promise<number | undefined> {
    return settle(this.engine.length(), callback);
  }

  clear(callback?: (err?: any) => void): Promise<unknown> {
    return settle(this.engine.clear(), callback);
  }

  /** The user's live sessions. Show `handle`, never other sessions' `id`, to a browser. */
  listSessions(userId: string | number, options?: { current?: string }): Promise<SessionInfo[]> {
    return this.engine.listSessions(userId, options);
  }

  countSessions(userId: string | number): Promise<number> {
    return this.engine.countSessions(userId);
  }

  /** "Log out everywhere"; `except: req.sessionID` keeps the current session. */
  revokeSessions(userId: string | number, options?: { except?: string | readonly string[] }): Promise<number> {
    return this.engine.revokeSessions(userId, options);
  }

  /** Revokes one session of the user by its handle. */
  revokeSession(userId: string | number, handle: string): Promise<boolean> {
    return this.engine.revokeSession(userId, handle);
  }

  // express-session's own plumbing, borrowed from its Store base class.

  regenerate(req: Request, callback: (err?: any) => any): void {
    const current = req.session as object | undefined;
    // A session express-session made in this request (not loaded from the
    // store) whose cookie has not gone out has an id no other request knows:
    // no request in flight can save it, so it needs no tombstone, and if it
    // was never saved there is nothing to delete. A login then leaves no
    // tombstone key behind and costs one round trip less.
    const fresh = current !== undefined && !this.loaded.has(current) && req.res?.headersSent === false;
    if (!fresh) {
      expressSession().Store.prototype.regenerate.call(this, req, callback);
      return;
    }
    const regenerated = (err?: unknown) => {
      this.generate(req);
      callback(err);
    };
    if (!this.saved.has(current)) {
      process.nextTick(regenerated);
      return;
    }
    void settle(this.engine.destroy(req.sessionID, { tombstone: false }), regenerated);
  }

  load(sid: string, callback: (err: any, session?: SessionData) => any): void {
    expressSession().Store.prototype.load.call(this, sid, callback);
  }

  createSession(req: Request, session: SessionData): Session & SessionData {
    const created = expressSession().Store.prototype.createSession.call(this, req, session);
    this.loaded.add(created);
    return created;
  }
}
