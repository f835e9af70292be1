import { Inject, Injectable } from '@nestjs/common';
import { SessionEngine, type RedisKit, type SessionInfo, type SessionRecord } from '@rediskit/core';
import { REDISKIT, REDISKIT_OPTIONS } from '../rediskit.constants';
import type { RedisKitModuleOptions } from '../rediskit.module-definition';

/**
 * Sessions in a Nest app: the user-level operations ("log out everywhere",
 * list a user's devices) and the engine to hand to the express-session store
 * in `main.ts`, configured by `RedisKitModule.forRoot({ session })`.
 *
 * @example
 * // main.ts
 * const app = await NestFactory.create(AppModule);
 * app.use(session({
 *   store: new RedisSessionStore(app.get(RedisSessionService).engine),
 *   secret: process.env.SESSION_SECRET!, resave: false, saveUninitialized: false,
 * }));
 *
 * // account.controller.ts
 * @Post('logout-everywhere')
 * async logoutEverywhere(@Req() req: Request) {
 *   return { revoked: await this.sessions.revokeSessions(req.session.userId, { except: req.sessionID }) };
 * }
 */
@Injectable()
export class RedisSessionService {
  readonly engine: SessionEngine;

  constructor(@Inject(REDISKIT) kit: RedisKit, @Inject(REDISKIT_OPTIONS) options: RedisKitModuleOptions) {
    this.engine = new SessionEngine(kit, options?.session ?? {}, 'RedisKitModule.session');
  }

  /** The user's live sessions; show `handle`, never other sessions' `id`, to a browser. */
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

  revokeSession(userId: string | number, handle: string): Promise<boolean> {
    return this.engine.revokeSession(userId, handle);
  }

  /** Reads a session by id (one Redis command). */
  get(id: string): Promise<SessionRecord | null> {
    return this.engine.get(id);
  }

  /** Destroys a session by id; in-flight saves of it are refused. */
  destroy(id: string): Promise<boolean> {
    return this.engine.destroy(id);
  }
}
