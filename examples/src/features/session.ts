import { randomBytes } from 'node:crypto';
import type { RedisKit } from '@rediskit/core';
import { RedisSessionStore } from '@rediskit/express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import type { DemoFeature } from './types';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    device?: string;
    loggedInAt?: string;
  }
}

/** Who can log in to the demo (no passwords: it is about sessions, not auth). */
const DEMO_USERS = ['alice', 'bob', 'carol'];
const JAR = '-c /tmp/rediskit-demo.jar -b /tmp/rediskit-demo.jar';

let store: RedisSessionStore | undefined;

const wrap =
  (fn: (req: Request, res: Response) => Promise<unknown>): RequestHandler =>
  (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };

function promisify(fn: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
}

function requireUser(req: Request, res: Response): string | undefined {
  const user = req.session?.userId;
  if (!user) res.status(401).json({ error: 'not logged in: POST /login first' });
  return user;
}

/**
 * Sessions on express-session with the rediskit store: log in from several
 * "devices" (curl cookie jars, browsers), list them, log out one or all.
 */
export const sessionFeature: DemoFeature = {
  name: 'Sessions',
  routes: [
    {
      method: 'POST',
      path: '/login',
      description: `Log in as ${DEMO_USERS.join(', ')} (a new session id; repeat with another jar for another device)`,
      curl: `curl -s ${JAR} -X POST localhost:$PORT/login -H 'content-type: application/json' -d '{"user":"alice"}'`,
    },
    {
      method: 'GET',
      path: '/me',
      description: 'Who this session belongs to (anonymous without a session)',
      curl: `curl -s ${JAR} localhost:$PORT/me`,
    },
    {
      method: 'GET',
      path: '/sessions',
      description: "The current user's live sessions (handles, never ids)",
      curl: `curl -s ${JAR} localhost:$PORT/sessions`,
    },
    {
      method: 'DELETE',
      path: '/sessions/:handle',
      description: 'Log out one other device by its handle',
      curl: `curl -s ${JAR} -X DELETE localhost:$PORT/sessions/HANDLE`,
    },
    {
      method: 'POST',
      path: '/logout',
      description: 'Log out this session (a slow request still in flight cannot bring it back)',
      curl: `curl -s ${JAR} -X POST localhost:$PORT/logout`,
    },
    {
      method: 'POST',
      path: '/logout-everywhere',
      description: 'Log out every other session of the user, keep this one',
      curl: `curl -s ${JAR} -X POST localhost:$PORT/logout-everywhere`,
    },
  ],

  mount(app, kit) {
    const sessions = new RedisSessionStore(kit, {
      userId: (s) => s['userId'] as string | undefined,
      absoluteLifetime: 12 * 3_600_000,
    });
    store = sessions;
    const withSession = session({
      name: 'demo.sid',
      store: sessions,
      secret: process.env.SESSION_SECRET ?? randomBytes(32).toString('hex'),
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { maxAge: 30 * 60_000, httpOnly: true, sameSite: 'lax' },
    });

    app.post(
      '/login',
      withSession,
      wrap(async (req, res) => {
        const user = String((req.body as { user?: unknown } | undefined)?.user ?? '');
        if (!DEMO_USERS.includes(user)) {
          res.status(400).json({ error: `user must be one of ${DEMO_USERS.join(', ')}` });
          return;
        }
        if (!req.session) {
          res.status(503).json({ error: 'sessions are unavailable while Redis is down' });
          return;
        }
        // a new id at login, so a planted cookie cannot ride along (session fixation)
        await promisify((done) => req.session.regenerate(done));
        req.session.userId = user;
        req.session.device = req.get('user-agent') ?? 'unknown';
        req.session.loggedInAt = new Date().toISOString();
        res.json({ user, handle: sessions.engine.handleOf(req.sessionID) });
      }),
    );

    app.get('/me', withSession, (req, res) => {
      res.json({ user: req.session?.userId ?? null, loggedInAt: req.session?.loggedInAt ?? null });
    });

    app.get(
      '/sessions',
      withSession,
      wrap(async (req, res) => {
        const user = requireUser(req, res);
        if (!user) return;
        const list = await sessions.listSessions(user, { current: req.sessionID });
        res.json({
          user,
          sessions: list.map((s) => ({
            handle: s.handle,
            current: s.current,
            device: s.data['device'] ?? null,
            createdAt: new Date(s.createdAt).toISOString(),
            expiresAt: new Date(s.expiresAt).toISOString(),
          })),
        });
      }),
    );

    app.delete(
      '/sessions/:handle',
      withSession,
      wrap(async (req, res) => {
        const user = requireUser(req, res);
        if (!user) return;
        res.json({ revoked: await sessions.revokeSession(user, String(req.params['handle'])) });
      }),
    );

    app.post(
      '/logout',
      withSession,
      wrap(async (req, res) => {
        if (!req.session?.userId) {
          res.json({ loggedOut: false });
          return;
        }
        await promisify((done) => req.session.destroy(done));
        res.clearCookie('demo.sid').json({ loggedOut: true });
      }),
    );

    app.post(
      '/logout-everywhere',
      withSession,
      wrap(async (req, res) => {
        const user = requireUser(req, res);
        if (!user) return;
        res.json({ revoked: await sessions.revokeSessions(user, { except: req.sessionID }) });
      }),
    );
  },

  async panel(_kit: RedisKit) {
    if (!store) return {};
    const perUser: Record<string, unknown> = {};
    for (const user of DEMO_USERS) perUser[`active sessions: ${user}`] = await store.countSessions(user);
    perUser['all sessions (SCAN)'] = await store.length();
    return perUser;
  },
};
