import { EventEmitter } from 'node:events';
import {
  RedisKitError,
  SessionEngine,
  type RedisKit,
  type SessionInfo,
  type SessionOptions,
  type SessionRecord,
} from '@rediskit/core';

/**
 * A koa-session external store on rediskit. It always writes the full
 * payload (koa-session keeps `_expire` and `_maxAge` inside it), takes the
 * ttl from koa-session's `maxAge` in milliseconds, and treats
 * `maxAge: 'session'` as the store's `ttl` option (default one day) instead
 * of failing. Logouts (`ctx.session = null`, `regenerate()`) leave a
 * tombstone, so a slow request cannot bring the session back.
 *
 * While Redis is unreachable, `get` resolves to no session (the request is
 * served anonymously) and writes reject with a coded error; the store emits
 * `disconnect` and later `connect`.
 *
 * @example
 * const store = new RedisSessionStore(kit, { userId: (s) => s.userId });
 * app.use(session({ store, maxAge: 3_600_000, renew: true }, app));
 * router.post('/logout-everywhere', async (ctx) => {
 *   await store.revokeSessions(ctx.session!.userId, { except: ctx.session!.externalKey });
 *   ctx.status = 204;
 * });
 */
export class RedisSessionStore extends EventEmitter {
  readonly engine: SessionEngine;

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

  /** koa-session: `get(key, maxAge, { rolling, ctx })`. */
  async get(key: string, _maxAge?: number | 'session', _options?: unknown): Promise<SessionRecord | undefined> {
    return (await this.engine.get(key)) ?? undefined;
  }

  /** koa-session: `set(key, sess, maxAge, { rolling, changed, ctx })`; always the full payload. */
  async set(key: string, sess: SessionRecord, maxAge?: number | 'session', _options?: unknown): Promise<void> {
    const ttl = typeof maxAge === 'number' ? maxAge : undefined;
    await this.engine.set(key, sess, { whole: true, ...(ttl === undefined ? {} : { ttl }) });
  }

  /** koa-session: `destroy(key, { ctx })`. */
  async destroy(key: string, _options?: unknown): Promise<void> {
    await this.engine.destroy(key);
  }

  /** The user's live sessions. Show `handle`, never other sessions' `id`, to a browser. */
  listSessions(userId: string | number, options?: { current?: string }): Promise<SessionInfo[]> {
    return this.engine.listSessions(userId, options);
  }

  countSessions(userId: string | number): Promise<number> {
    return this.engine.countSessions(userId);
  }

  /** "Log out everywhere"; `except: ctx.session.externalKey` keeps the current session. */
  revokeSessions(userId: string | number, options?: { except?: string | readonly string[] }): Promise<number> {
    return this.engine.revokeSessions(userId, options);
  }

  revokeSession(userId: string | number, handle: string): Promise<boolean> {
    return this.engine.revokeSession(userId, handle);
  }

  all(): Promise<Array<{ id: string; session: SessionRecord }>> {
    return this.engine.all();
  }

  ids(): Promise<string[]> {
    return this.engine.ids();
  }

  length(): Promise<number> {
    return this.engine.length();
  }

  clear(): Promise<number> {
    return this.engine.clear();
  }
}
