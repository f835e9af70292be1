// Scenario 3: a route that reads the session of a logged-in user, under
// express-session (resave: false, saveUninitialized: false), 100 live sessions.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expressApp, ioredis } from '../lib/apps.mjs';

const MAX_AGE = 3_600_000;
const SECRET = 'bench-secret-bench-secret';
const SESSIONS = 100;

/** What connect-redis stores for one logged-in session: the floor reads the same number of bytes. */
const sessionJson = () =>
  JSON.stringify({
    cookie: { originalMaxAge: MAX_AGE, expires: new Date(Date.now() + MAX_AGE).toISOString(), httpOnly: true, path: '/' },
    userId: `user-${randomBytes(4).toString('hex')}`,
  });

/** The same two routes for every store: log in (write), read the session (the measured request). */
async function sessionApp(store) {
  const { default: session } = await import('express-session');
  const { app } = await expressApp();
  app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: MAX_AGE, httpOnly: true } }));
  app.post('/login', (req, res, next) =>
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = `user-${randomBytes(4).toString('hex')}`;
      res.status(204).end();
    }),
  );
  app.get('/me', (req, res) => {
    if (!req.session.userId) return res.status(401).end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ user: req.session.userId }));
  });
  return app;
}

export const contenders = {
  ceiling: {
    kind: 'ceiling',
    label: 'ceiling: Express, no session',
    packages: ['express'],
    async start() {
      const { app } = await expressApp();
      app.get('/me', (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ user: 'user-00000000' }));
      });
      return { listener: app };
    },
  },
  floor: {
    kind: 'floor',
    label: 'floor: Express + one GET',
    packages: ['express', 'ioredis'],
    note: 'Reads the id from a plain cookie (no signature), GETs a session-sized JSON string and parses it.',
    async start({ redisUrl }) {
      const redis = await ioredis(redisUrl);
      const { app } = await expressApp();
      app.post('/login', async (req, res) => {
        const id = randomBytes(24).toString('base64url');
        await redis.set(`bench:floor:sess:${id}`, sessionJson(), 'PX', MAX_AGE);
        res.setHeader('set-cookie', `sid=${id}; Path=/; HttpOnly`);
        res.status(204).end();
      });
      app.get('/me', async (req, res) => {
        const id = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
        const raw = id && (await redis.get(`bench:floor:sess:${id}`));
        if (!raw) return res.status(401).end();
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ user: JSON.parse(raw).userId }));
      });
      return { listener: app, close: () => redis.quit() };
    },
  },
  rediskit: {
    kind: 'rediskit',
    label: 'rediskit RedisSessionStore',
    packages: ['@rediskit/express', 'express-session'],
    async start({ redisUrl }) {
      const { createRedisKit } = await import('@rediskit/core');
      const { RedisSessionStore } = await import('@rediskit/express');
      const kit = createRedisKit({ url: redisUrl, prefix: 'bench', logger: false });
      await kit.ready();
      return { listener: await sessionApp(new RedisSessionStore(kit)), close: () => kit.close() };
    },
  },
  'connect-redis': {
    kind: 'peer',
    label: 'connect-redis (node-redis)',
    packages: ['connect-redis', 'redis', 'express-session'],
    note: 'connect-redis 10 declares `engines: node >= 22`; it installs with a warning and runs unchanged on Node 20 here.',
    async start({ redisUrl }) {
      const { RedisStore } = await import('connect-redis');
      const { createClient } = await import('redis');
      const client = createClient({ url: redisUrl });
      client.on('error', () => {});
      await client.connect();
      return { listener: await sessionApp(new RedisStore({ client, prefix: 'bench:sess:' })), close: () => client.quit() };
    },
  },
  memorystore: {
    kind: 'peer',
    label: 'express-session MemoryStore (no Redis)',
    packages: ['express-session'],
    note: 'In process, not shared between instances and not meant for production; the in-memory reference.',
    async start() {
      return { listener: await sessionApp(undefined) };
    },
  },
};

export const scenarios = [
  {
    id: 'session-read',
    title: 'Session read, express-session, 100 live sessions',
    module: fileURLToPath(import.meta.url),
    kind: 'http',
    connections: 32,
    request: { method: 'GET', path: '/me' },
    description:
      `Each request carries the cookie of one of ${SESSIONS} logged-in sessions (resave: false, saveUninitialized: false, cookie maxAge 1 h) and reads its user id; the session is not changed. ` +
      'The floor GETs a session-sized JSON string by an unsigned cookie id. Bytes per item: 10,000 logins.',
    contenders: Object.entries(contenders).map(([id, c]) => ({ id, ...c, noFill: c.kind === 'ceiling' || id === 'memorystore' })),
    async prepare({ contender, target }) {
      if (contender.kind === 'ceiling') return {};
      const cookies = [];
      for (let i = 0; i < SESSIONS; i++) {
        const res = await fetch(`${target}/login`, { method: 'POST' });
        const setCookie = res.headers.get('set-cookie');
        if (res.status !== 204 || !setCookie) throw new Error(`login answered ${res.status} without a cookie`);
        cookies.push(setCookie.split(';')[0]);
      }
      return { vary: { kind: 'header-cycle', header: 'cookie', values: cookies } };
    },
    fill: { count: 10_000, request: { method: 'POST', path: '/login' } },
    targets: [{ contender: 'rediskit', label: 'rediskit session read', vs: 'connect-redis', ratio: 1.2, roundTrips: 1 }],
    analysis:
      'express-session does most of the work of a session read whatever the store: it parses the cookie and checks its signature, builds the session object, hashes it to notice changes, and hooks the response. The MemoryStore, which touches no Redis at all, is therefore the bound for every store, and on this machine it runs little faster than connect-redis, so a 1.2x lead in requests/s over connect-redis is at the edge of what any store can show here, and from run to run it comes and goes with the noise. Where the stores do differ is what a read costs: rediskit sends one `GET` and skips the touch while the stored expiry is fresh (`touchAfter`), where connect-redis sends `GET` and `EXPIRE` on every read; compare "app CPU", "Redis CPU" and "commands run", and the CPU ratio beside the target. rediskit\'s bytes per session include the entry in the owner\'s index that "log out everywhere" needs (the second key).',
  },
];
