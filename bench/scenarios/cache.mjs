// Scenario 1: a cached GET that hits, 1 KB and 100 KB bodies, on Express and on NestJS.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expressApp, ioredis, makeBody, nestListener } from '../lib/apps.mjs';

const TTL_MS = 600_000;
const FLOOR_KEY = 'bench:floor:body';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The origin every contender caches: counts its calls, so the harness can tell hits from misses. */
function origin(stats, body) {
  return (req, res) => {
    stats.origin++;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.setHeader('cache-control', 'public, max-age=600');
    res.end(body);
  };
}

export const contenders = {
  ceiling: {
    kind: 'ceiling',
    label: 'ceiling: Express, no Redis',
    packages: ['express'],
    async start({ params }) {
      const body = makeBody(params.size);
      const { app } = await expressApp();
      app.get('/page', (req, res) => {
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(body);
      });
      return { listener: app };
    },
  },
  floor: {
    kind: 'floor',
    label: 'floor: Express + one GET',
    packages: ['express', 'ioredis'],
    async start({ redisUrl, params }) {
      const redis = await ioredis(redisUrl);
      const { app } = await expressApp();
      const bytes = makeBody(params.size);
      app.get('/page', async (req, res) => {
        // The memory fill (`?i=`) stores the same bytes as a plain string: the floor's footprint.
        if (req.query.i) await redis.set(`${FLOOR_KEY}:${req.query.i}`, bytes, 'PX', TTL_MS);
        const body = await redis.getBuffer(FLOOR_KEY);
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(body);
      });
      return { listener: app, close: () => redis.quit() };
    },
  },
  rediskit: {
    kind: 'rediskit',
    label: 'rediskit cache()',
    packages: ['@rediskit/express', 'express'],
    async start({ redisUrl, params, stats }) {
      const { createRedisKit } = await import('@rediskit/core');
      const { attachRedisKit, cache } = await import('@rediskit/express');
      const kit = createRedisKit({ url: redisUrl, prefix: 'bench', logger: false });
      await kit.ready();
      const { app } = await expressApp();
      attachRedisKit(app, kit);
      app.get('/page', cache({ ttl: TTL_MS }), origin(stats, makeBody(params.size)));
      return { listener: app, close: () => kit.close() };
    },
  },
  apicache: {
    kind: 'peer',
    label: 'apicache (ioredis)',
    packages: ['apicache', 'ioredis'],
    note: 'apicache only uses Redis when `redisClient.connected` is true, a flag of node-redis 3 that ioredis does not have; without it every request silently goes to the origin. The contender defines `connected` as `status === "ready"`.',
    async start({ redisUrl, params, stats }) {
      const require = createRequire(import.meta.url);
      const apicache = require('apicache');
      const redis = await ioredis(redisUrl);
      Object.defineProperty(redis, 'connected', { get: () => redis.status === 'ready' });
      const instance = apicache.newInstance({ redisClient: redis, defaultDuration: TTL_MS });
      const { app } = await expressApp();
      app.get('/page', instance.middleware(TTL_MS), origin(stats, makeBody(params.size)));
      return { listener: app, close: () => redis.quit() };
    },
  },
  'http-cache-middleware': {
    kind: 'peer',
    label: 'http-cache-middleware (cache-manager-ioredis)',
    packages: ['http-cache-middleware', 'cache-manager-ioredis', 'ioredis'],
    note: 'cache-manager 4 (its own dependency) with the cache-manager-ioredis store on an ioredis 6 client; a hit reads the metadata and the body as two keys.',
    async start({ redisUrl, params, stats }) {
      const require = createRequire(import.meta.url);
      const middleware = require('http-cache-middleware');
      const cacheManager = createRequire(require.resolve('http-cache-middleware'))('cache-manager');
      const redisStore = require('cache-manager-ioredis');
      const redis = await ioredis(redisUrl);
      const store = cacheManager.caching({ store: redisStore, redisInstance: redis, ttl: TTL_MS / 1000 });
      const { app } = await expressApp();
      const body = makeBody(params.size);
      app.get('/page', middleware({ stores: [store] }), (req, res) => {
        stats.origin++;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.setHeader('x-cache-timeout', '10 minutes');
        res.end(body);
      });
      return { listener: app, close: () => redis.quit() };
    },
  },

  'nest-ceiling': {
    kind: 'ceiling',
    label: 'ceiling: Nest, no Redis',
    packages: ['@nestjs/core'],
    async start({ params }) {
      const body = makeBody(params.size).toString();
      return nestListener({ routes: [{ method: 'Get', path: 'page', handler: () => body }] });
    },
  },
  'nest-floor': {
    kind: 'floor',
    label: 'floor: Nest + one GET',
    packages: ['@nestjs/core', 'ioredis'],
    async start({ redisUrl }) {
      const redis = await ioredis(redisUrl);
      const nest = await nestListener({ routes: [{ method: 'Get', path: 'page', handler: () => redis.get(FLOOR_KEY) }] });
      return { ...nest, close: async () => (await nest.close(), await redis.quit()) };
    },
  },
  'nest-rediskit': {
    kind: 'rediskit',
    label: 'rediskit @Cacheable()',
    packages: ['@rediskit/nestjs', '@nestjs/core'],
    async start({ redisUrl, params, stats }) {
      const { RedisKitModule, RedisKitCacheModule, Cacheable } = await import('@rediskit/nestjs');
      const body = makeBody(params.size).toString();
      return nestListener({
        imports: [RedisKitModule.forRoot({ connection: { url: redisUrl, prefix: 'bench', logger: false } }), RedisKitCacheModule],
        routes: [{ method: 'Get', path: 'page', decorators: [Cacheable({ ttl: TTL_MS })], handler: () => (stats.origin++, body) }],
      });
    },
  },
  'nest-cache-manager': {
    kind: 'peer',
    label: '@nestjs/cache-manager CacheInterceptor (@keyv/redis)',
    packages: ['@nestjs/cache-manager', 'cache-manager', 'keyv', '@keyv/redis'],
    note: 'cache-manager 7 on Keyv 5 with @keyv/redis (node-redis 5 inside). Keyv 6 requires Node 22.19, so Keyv 5 is the current line that runs here. It caches the handler\'s return value, not the HTTP response.',
    async start({ redisUrl, params, stats }) {
      const { CacheModule, CacheInterceptor, CacheTTL } = await import('@nestjs/cache-manager');
      const { UseInterceptors } = await import('@nestjs/common');
      const { default: KeyvRedis } = await import('@keyv/redis');
      const { Keyv } = await import('keyv');
      const body = makeBody(params.size).toString();
      const store = new Keyv({ store: new KeyvRedis(redisUrl), namespace: 'bench' });
      const nest = await nestListener({
        imports: [CacheModule.register({ stores: [store], ttl: TTL_MS })],
        routes: [{ method: 'Get', path: 'page', decorators: [UseInterceptors(CacheInterceptor), CacheTTL(TTL_MS)], handler: () => (stats.origin++, body) }],
      });
      return { ...nest, close: async () => (await nest.close(), await store.disconnect?.()) };
    },
  },
};

const module = fileURLToPath(import.meta.url);

function scenario(id, title, size, ids, { nest = false } = {}) {
  const floorId = nest ? 'nest-floor' : 'floor';
  const rediskitId = nest ? 'nest-rediskit' : 'rediskit';
  return {
    id,
    title,
    module,
    kind: 'http',
    params: { size },
    connections: 32,
    request: { method: 'GET', path: '/page' },
    expectNoOrigin: true,
    description:
      `Every request is a hit on one ${size >= 1024 * 100 ? '100 KB' : '1 KB'} response stored before the round. ` +
      `The floor GETs the same bytes from Redis and writes them; the ceiling writes them from memory. ` +
      `Bytes per item: ${size >= 102400 ? '1,000' : '10,000'} distinct URLs (\`/page?i=...\`) stored, per entry.`,
    contenders: ids.map((cid) => ({ id: cid, ...contenders[cid] })),
    async prepare({ contender, target, admin }) {
      if (contender.kind === 'floor') await admin.set(FLOOR_KEY, makeBody(size));
      else if (contender.kind !== 'ceiling') {
        const res = await fetch(`${target}/page`);
        await res.arrayBuffer();
        await sleep(100); // stores that write after the response ends
      }
    },
    async check({ contender, origin, requests }) {
      if (contender.kind !== 'rediskit' && contender.kind !== 'peer') return;
      if (origin > 0) throw new Error(`${origin} of ${requests} requests reached the handler after the entry was stored: not serving from the cache`);
    },
    fill: { count: size >= 102400 ? 1000 : 10_000, request: { method: 'GET', path: '/page' }, vary: { kind: 'query-unique', param: 'i' }, connections: 8 },
    targets: [
      { contender: rediskitId, label: `rediskit ${nest ? '@Cacheable() ' : ''}hit (${size >= 102400 ? '100 KB' : '1 KB'})`, vs: 'floor', ratio: size >= 102400 ? 0.8 : 0.9, roundTrips: 1, ...(nest ? {} : { bytesOverFloor: 200 }) },
    ],
    floorId,
    analysis: nest
      ? 'The hit is answered inside the interceptor: one lookup script, then the stored status, headers and bytes are written to the response, and Nest\'s own reply to the (absent) handler result is muted. Under concurrency a hit usually costs less than one round trip: concurrent lookups of one URL in one process share one script call (see "commands run").'
      : 'How an entry is stored: one string per URL, a header of about 140 B (fill times, tag bindings, status, headers with one-byte codes for common names) in front of the body bytes, so the body is stored once and the string lands in the same allocation size class as the floor\'s (a URL whose responses vary adds a small head record naming the varied headers; each tag adds one small record per shard, shared by all its entries). Under concurrency a hit usually costs less than one round trip: concurrent lookups of one URL in one process share one script call (see "commands run").',
  };
}

export const scenarios = [
  scenario('cache-1k', 'Cached GET hit, 1 KB, Express', 1024, ['ceiling', 'floor', 'rediskit', 'apicache', 'http-cache-middleware']),
  scenario('cache-100k', 'Cached GET hit, 100 KB, Express', 100 * 1024, ['ceiling', 'floor', 'rediskit', 'apicache', 'http-cache-middleware']),
  scenario('cache-nest', 'Cached GET hit, 1 KB, NestJS', 1024, ['nest-ceiling', 'nest-floor', 'nest-rediskit', 'nest-cache-manager'], { nest: true }),
];
