import { createRequire } from 'node:module';
import {
  RedisKitError,
  SessionStoreBase,
  type RedisKit,
  type SessionEngine,
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
export class RedisSessionStore extends SessionStoreBase implements Store {
  /** Installed by express-session when the store is passed to `session()`. */
  generate!: (req: Request) => void;
  /** Sessions express-session built from a stored value (createSession), as opposed to new ones. */
  private readonly loaded = new WeakSet<object>();
  /** Session objects a save was sent for. */
  private readonly saved = new WeakSet<object>();

  /** `new RedisSessionStore(kit, options)`, or `new RedisSessionStore(engine)` to share an engine. */
  constructor(kitOrEngine: RedisKit | SessionEngine, options?: SessionOptions) {
    // The engine, the connect/disconnect events, `connected` and the per-user
    // operations (listSessions, countSessions, revokeSessions, revokeSession)
    // come from SessionStoreBase, shared with the koa-session store.
    super(kitOrEngine, options, 'RedisSessionStore');
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
