import { SessionStoreBase, type RedisKit, type SessionEngine, type SessionOptions, type SessionRecord } from '@rediskit/core';

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
export class RedisSessionStore extends SessionStoreBase {
  /** `new RedisSessionStore(kit, options)`, or `new RedisSessionStore(engine)` to share an engine. */
  constructor(kitOrEngine: RedisKit | SessionEngine, options?: SessionOptions) {
    // The engine, the connect/disconnect events, `connected` and the per-user
    // operations (listSessions, countSessions, revokeSessions, revokeSession)
    // come from SessionStoreBase, shared with the express-session store.
    super(kitOrEngine, options, 'RedisSessionStore');
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
