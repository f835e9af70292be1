import { EventEmitter } from 'node:events';
import { RedisKitError } from '../errors';
import type { RedisKit } from '../redis/redis-kit';
import type { SessionOptions } from './options';
import { SessionEngine, type SessionInfo } from './session-engine';

/**
 * What the express-session and koa-session stores share: the engine (made
 * from a kit and options, or one passed in to share it), `connect` /
 * `disconnect` events that follow the kit's connection, `connected`, and the
 * per-user operations. For adapter authors; apps use the adapters' stores.
 *
 * @example
 * class MyStore extends SessionStoreBase {
 *   constructor(kitOrEngine: RedisKit | SessionEngine, options?: SessionOptions) {
 *     super(kitOrEngine, options, 'MyStore');
 *   }
 * }
 */
export abstract class SessionStoreBase extends EventEmitter {
  /** The engine doing the Redis work (shared with a Nest `RedisSessionService` or another store if you pass it). */
  readonly engine: SessionEngine;

  /**
   * `kitOrEngine` is a rediskit context (an engine is made with `options`) or
   * an engine to share (then `options` must be left out: they belong to it).
   * `where` names the store in error messages.
   */
  protected constructor(kitOrEngine: RedisKit | SessionEngine, options: SessionOptions | undefined, where: string) {
    super();
    if (kitOrEngine instanceof SessionEngine) {
      if (options !== undefined) {
        throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${where}: options belong to the engine when you pass one`, {
          details: { option: `${where}.options` },
        });
      }
      this.engine = kitOrEngine;
    } else {
      this.engine = new SessionEngine(kitOrEngine, options, where);
    }
    const kit = this.engine.kit;
    kit.events.on('ready', () => this.emit('connect'));
    kit.events.on('degraded', () => this.emit('disconnect'));
    kit.events.on('closed', () => this.emit('disconnect'));
    // The session middleware subscribes right after construction; tell it once if Redis is not there yet.
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

  /** The user's live sessions. Show `handle`, never other sessions' `id`, to a browser. */
  listSessions(userId: string | number, options?: { current?: string }): Promise<SessionInfo[]> {
    return this.engine.listSessions(userId, options);
  }

  /** How many live sessions the user has. */
  countSessions(userId: string | number): Promise<number> {
    return this.engine.countSessions(userId);
  }

  /**
   * "Log out everywhere"; `except` the current session id keeps it
   * (`req.sessionID` with express-session, `ctx.session.externalKey` with koa-session).
   */
  revokeSessions(userId: string | number, options?: { except?: string | readonly string[] }): Promise<number> {
    return this.engine.revokeSessions(userId, options);
  }

  /** Revokes one session of the user by its handle (from listSessions). */
  revokeSession(userId: string | number, handle: string): Promise<boolean> {
    return this.engine.revokeSession(userId, handle);
  }
}
