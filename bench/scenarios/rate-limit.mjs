// Scenario 2: a rate-limited route whose limit is never reached, one hot client
// and 10,000 random clients (the `x-client` header), on Express and on NestJS.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { clientKey, expressApp, ioredis, nestListener } from '../lib/apps.mjs';

// High enough that nothing is rejected (GCRA allows at most 1,000 per ms of window).
const LIMIT = 10_000_000;
const WINDOW = 60_000;
const BODY = JSON.stringify({ ok: true });

const handler = (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(BODY);
};

// The floor's limiter decision: one EVALSHA of the smallest script that is a
// limiter at all (a fixed-window counter), registered once like every contender's.
const FLOOR_SCRIPT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

async function floorRedis(redisUrl) {
  const redis = await ioredis(redisUrl);
  redis.defineCommand('benchFloorLimit', { numberOfKeys: 1, lua: FLOOR_SCRIPT });
  return redis;
}

async function rediskitApp(redisUrl, options) {
  const { createRedisKit } = await import('@rediskit/core');
  const { attachRedisKit, rateLimit } = await import('@rediskit/express');
  const kit = createRedisKit({ url: redisUrl, prefix: 'bench', logger: false });
  await kit.ready();
  const { app } = await expressApp();
  attachRedisKit(app, kit);
  app.get('/api', rateLimit({ key: clientKey, ...options }), handler);
  return { listener: app, close: () => kit.close() };
}

const rediskitAlgorithm = (algorithm, label) => ({
  kind: 'rediskit',
  label,
  packages: ['@rediskit/express', 'express'],
  start: ({ redisUrl }) => rediskitApp(redisUrl, { algorithm, limit: LIMIT, window: WINDOW }),
});

export const contenders = {
  ceiling: {
    kind: 'ceiling',
    label: 'ceiling: Express, no Redis',
    packages: ['express'],
    async start() {
      const { app } = await expressApp();
      app.get('/api', handler);
      return { listener: app };
    },
  },
  floor: {
    kind: 'floor',
    label: 'floor: Express + one EVALSHA',
    packages: ['express', 'ioredis'],
    async start({ redisUrl }) {
      const redis = await floorRedis(redisUrl);
      const { app } = await expressApp();
      app.get('/api', async (req, res, next) => {
        try {
          await redis.benchFloorLimit(`bench:floor:${clientKey(req)}`, WINDOW);
          handler(req, res);
        } catch (e) {
          next(e);
        }
      });
      return { listener: app, close: () => redis.quit() };
    },
  },
  'rediskit-fixed': rediskitAlgorithm('fixed-window', 'rediskit fixed-window'),
  'rediskit-sliding': rediskitAlgorithm('sliding-window', 'rediskit sliding-window'),
  'rediskit-token-bucket': rediskitAlgorithm('token-bucket', 'rediskit token-bucket'),
  'rediskit-gcra': rediskitAlgorithm('gcra', 'rediskit gcra'),
  'rediskit-two-policies': {
    kind: 'rediskit',
    label: 'rediskit two policies (gcra + fixed-window)',
    packages: ['@rediskit/express', 'express'],
    start: ({ redisUrl }) =>
      rediskitApp(redisUrl, {
        policies: [
          { name: 'per-second', algorithm: 'gcra', limit: 1_000_000, window: 1000 },
          { name: 'per-minute', algorithm: 'fixed-window', limit: LIMIT, window: WINDOW },
        ],
      }),
  },
  'express-rate-limit': {
    kind: 'peer',
    label: 'express-rate-limit + rate-limit-redis',
    packages: ['express-rate-limit', 'rate-limit-redis', 'ioredis'],
    async start({ redisUrl }) {
      const { rateLimit } = await import('express-rate-limit');
      const { RedisStore } = await import('rate-limit-redis');
      const redis = await ioredis(redisUrl);
      const { app } = await expressApp();
      app.get(
        '/api',
        rateLimit({
          windowMs: WINDOW,
          limit: LIMIT,
          keyGenerator: clientKey,
          store: new RedisStore({ sendCommand: (command, ...args) => redis.call(command, ...args), prefix: 'bench:erl:' }),
        }),
        handler,
      );
      return { listener: app, close: () => redis.quit() };
    },
  },
  'rate-limiter-flexible': {
    kind: 'peer',
    label: 'rate-limiter-flexible RateLimiterRedis',
    packages: ['rate-limiter-flexible', 'ioredis'],
    note: 'It has no Express middleware; the contender calls `consume(key)` in a five-line one, as its docs show.',
    async start({ redisUrl }) {
      const require = createRequire(import.meta.url);
      const { RateLimiterRedis } = require('rate-limiter-flexible');
      const redis = await ioredis(redisUrl);
      const limiter = new RateLimiterRedis({ storeClient: redis, points: LIMIT, duration: WINDOW / 1000, keyPrefix: 'bench:rlf' });
      const { app } = await expressApp();
      app.get(
        '/api',
        (req, res, next) =>
          limiter.consume(clientKey(req)).then(
            () => next(),
            (r) => (r instanceof Error ? next(r) : res.status(429).end()),
          ),
        handler,
      );
      return { listener: app, close: () => redis.quit() };
    },
  },

  'nest-ceiling': {
    kind: 'ceiling',
    label: 'ceiling: Nest, no Redis',
    packages: ['@nestjs/core'],
    start: () => nestListener({ routes: [{ method: 'Get', path: 'api', handler: () => ({ ok: true }) }] }),
  },
  'nest-floor': {
    kind: 'floor',
    label: 'floor: Nest + one EVALSHA',
    packages: ['@nestjs/core', 'ioredis'],
    async start({ redisUrl }) {
      const { Req } = await import('@nestjs/common');
      const redis = await floorRedis(redisUrl);
      const nest = await nestListener({
        routes: [
          {
            method: 'Get',
            path: 'api',
            params: [Req()],
            handler: async (req) => (await redis.benchFloorLimit(`bench:floor:${clientKey(req)}`, WINDOW), { ok: true }),
          },
        ],
      });
      return { ...nest, close: async () => (await nest.close(), await redis.quit()) };
    },
  },
  'nest-rediskit': {
    kind: 'rediskit',
    label: 'rediskit @RateLimit() (gcra)',
    packages: ['@rediskit/nestjs', '@nestjs/core'],
    async start({ redisUrl }) {
      const { RedisKitModule, RateLimit } = await import('@rediskit/nestjs');
      return nestListener({
        imports: [RedisKitModule.forRoot({ connection: { url: redisUrl, prefix: 'bench', logger: false } })],
        routes: [{ method: 'Get', path: 'api', decorators: [RateLimit({ algorithm: 'gcra', limit: LIMIT, window: WINDOW, key: clientKey })], handler: () => ({ ok: true }) }],
      });
    },
  },
  'nest-throttler': {
    kind: 'peer',
    label: '@nestjs/throttler + @nest-lab/throttler-storage-redis',
    packages: ['@nestjs/throttler', '@nest-lab/throttler-storage-redis', 'ioredis'],
    note: '@nest-lab/throttler-storage-redis declares peers up to NestJS 11; it runs on NestJS 12 here unchanged.',
    async start({ redisUrl }) {
      const { ThrottlerModule, ThrottlerGuard } = await import('@nestjs/throttler');
      const { ThrottlerStorageRedisService } = await import('@nest-lab/throttler-storage-redis');
      const { UseGuards } = await import('@nestjs/common');
      const redis = await ioredis(redisUrl);
      const nest = await nestListener({
        imports: [
          ThrottlerModule.forRoot({
            throttlers: [{ ttl: WINDOW, limit: LIMIT }],
            storage: new ThrottlerStorageRedisService(redis),
            getTracker: (req) => clientKey(req),
          }),
        ],
        routes: [{ method: 'Get', path: 'api', decorators: [UseGuards(ThrottlerGuard)], handler: () => ({ ok: true }) }],
      });
      return { ...nest, close: async () => (await nest.close(), await redis.quit()) };
    },
  },
};

const module = fileURLToPath(import.meta.url);
const EXPRESS = ['ceiling', 'floor', 'rediskit-fixed', 'rediskit-sliding', 'rediskit-token-bucket', 'rediskit-gcra', 'rediskit-two-policies', 'express-rate-limit', 'rate-limiter-flexible'];

function scenario(id, title, ids, vary, { nest = false, fill = false } = {}) {
  const targets = nest
    ? [{ contender: 'nest-rediskit', label: 'rediskit @RateLimit()', vs: 'floor', ratio: 0.95, roundTrips: 1 }]
    : [
        ...['rediskit-fixed', 'rediskit-sliding', 'rediskit-token-bucket', 'rediskit-gcra', 'rediskit-two-policies'].map((c) => ({
          contender: c,
          label: contenders[c].label,
          vs: 'floor',
          ratio: 0.95,
          roundTrips: 1,
          ...(fill && (c === 'rediskit-fixed' || c === 'rediskit-gcra') ? { bytesMax: 100, itemName: 'client key' } : {}),
        })),
      ];
  return {
    id,
    title,
    group: 'rate-limit',
    module,
    kind: 'http',
    connections: 32,
    request: { method: 'GET', path: '/api' },
    vary,
    description:
      `Limit ${LIMIT.toLocaleString('en-US')} per minute, so nothing is rejected; the client is the \`x-client\` header (${vary.kind === 'header-random' ? '10,000 random clients' : 'one client'}). ` +
      `The floor runs one EVALSHA of a fixed-window counter script (INCR, PEXPIRE on the first hit).` +
      (fill ? ' Bytes per item: 10,000 clients, one request each.' : ''),
    contenders: ids.map((cid) => ({ id: cid, ...contenders[cid] })),
    fill: fill ? { count: 10_000, request: { method: 'GET', path: '/api' }, vary: { kind: 'header-unique', header: 'x-client', prefix: '203.0.113.' } } : undefined,
    targets,
    analysis: nest
      ? 'As on Express, throughput is bound by the app process (the ceiling is only a little above the floor), and Nest\'s own per-request work (guards, interceptors, the router) is the same for every contender; the guard adds the client key, the decision and the `RateLimit` headers. A target missed on requests/s shows the app CPU ratio beside it.'
      : 'Throughput here is bound by the app process: the ceiling, with no Redis at all, is only a little above the floor, so requests/s separate the contenders by the CPU each spends per request in Node, and a gap of a few percent is within what the rest of the machine moves between rounds (a target missed on requests/s shows the app CPU ratio beside it). What rediskit does per request beyond the floor: it derives the client key (IPv4 as is, IPv6 grouped by /56), builds the keys under one hash tag, and sets the `RateLimit` and `RateLimit-Policy` headers; inside Redis its script reads `TIME` and the window\'s expiry besides the counter (see "commands run"). It saves where the floor does not: the commands of one event-loop turn leave in one socket write. The two-policy route does the per-policy work twice in both places (two state keys, two entries in each header, two states in the script: see "commands run"), so it trails the single-policy contenders by about that much app and Redis CPU; the report holds it to the single-policy bar all the same. GCRA and token-bucket keys expire as soon as the bucket would be full again, which under a limit this high is at once, so their bytes per key read as zero here (see docs/rate-limit.md for their size under a real limit).',
  };
}

export const scenarios = [
  scenario('rate-limit-hot', 'Rate-limited route, one hot client, Express', EXPRESS, { kind: 'header-cycle', header: 'x-client', values: ['203.0.113.7'] }),
  scenario('rate-limit-10k', 'Rate-limited route, 10,000 random clients, Express', EXPRESS, { kind: 'header-random', header: 'x-client', count: 10_000, prefix: '198.51.' }, { fill: true }),
  scenario('rate-limit-nest', 'Rate-limited route, 10,000 random clients, NestJS', ['nest-ceiling', 'nest-floor', 'nest-rediskit', 'nest-throttler'], { kind: 'header-random', header: 'x-client', count: 10_000, prefix: '198.51.' }, { nest: true }),
];
