// Scenario 4: an idempotent POST, the first request with a key and its replay.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expressApp, ioredis } from '../lib/apps.mjs';

const RETENTION = 86_400_000;
const REPLAY_KEYS = 100;
const ORDER = { sku: 'book-1234', qty: 2, note: 'leave at the door' };

function createOrder(stats, req) {
  stats.origin++;
  return { id: randomBytes(8).toString('hex'), sku: req.body?.sku, qty: req.body?.qty, status: 'created' };
}

export const contenders = {
  ceiling: {
    kind: 'ceiling',
    label: 'ceiling: Express, no Redis',
    packages: ['express'],
    async start({ stats }) {
      const { app, express } = await expressApp();
      app.post('/orders', express.json(), (req, res) => res.status(201).json(createOrder(stats, req)));
      return { listener: app };
    },
  },
  floor: {
    kind: 'floor',
    label: 'floor: SET NX GET, then SET',
    packages: ['express', 'ioredis'],
    note: 'The least a correct idempotent POST needs: one `SET key NX GET` that claims the key or returns the stored response (a replay is that one command), and one `SET` of the response after the handler.',
    async start({ redisUrl, stats }) {
      const redis = await ioredis(redisUrl);
      const { app, express } = await expressApp();
      app.post('/orders', express.json(), async (req, res, next) => {
        try {
          const key = `bench:floor:idem:${req.headers['idempotency-key']}`;
          const prior = await redis.set(key, '', 'PX', RETENTION, 'NX', 'GET');
          if (prior) {
            res.status(201).setHeader('content-type', 'application/json');
            return res.end(prior);
          }
          const body = JSON.stringify(createOrder(stats, req));
          await redis.set(key, body, 'PX', RETENTION);
          res.status(201).setHeader('content-type', 'application/json');
          res.end(body);
        } catch (e) {
          next(e);
        }
      });
      return { listener: app, close: () => redis.quit() };
    },
  },
  rediskit: {
    kind: 'rediskit',
    label: 'rediskit idempotency()',
    packages: ['@rediskit/express', 'express'],
    async start({ redisUrl, stats }) {
      const { createRedisKit } = await import('@rediskit/core');
      const { attachRedisKit, idempotency } = await import('@rediskit/express');
      const kit = createRedisKit({ url: redisUrl, prefix: 'bench', logger: false });
      await kit.ready();
      const { app, express } = await expressApp();
      attachRedisKit(app, kit);
      app.post('/orders', express.json(), idempotency({ required: true }), (req, res) => res.status(201).json(createOrder(stats, req)));
      return { listener: app, close: () => kit.close() };
    },
  },
  'node-idempotency': {
    kind: 'peer',
    label: '@node-idempotency/core + storage-adapter-redis',
    packages: ['@node-idempotency/core', '@node-idempotency/storage-adapter-redis'],
    note: 'The core with its Redis storage (node-redis 4, its own dependency) in an Express handler written after its Express adapter: `onRequest` before the handler, `onResponse` after it.',
    async start({ redisUrl, stats }) {
      const require = createRequire(import.meta.url);
      const { Idempotency } = require('@node-idempotency/core');
      const { RedisStorageAdapter } = require('@node-idempotency/storage-adapter-redis');
      const storage = new RedisStorageAdapter({ url: redisUrl });
      await storage.connect();
      const idem = new Idempotency(storage, { cacheTTLMS: RETENTION, cacheKeyPrefix: 'bench:nidem' });
      const { app, express } = await expressApp();
      app.post('/orders', express.json(), async (req, res, next) => {
        const params = { headers: req.headers, path: req.path, body: req.body, method: req.method };
        try {
          const replay = await idem.onRequest(params);
          if (replay) return res.status(replay.additional?.status ?? 200).json(replay.body);
        } catch (e) {
          if (e?.name === 'IdempotencyError' || e?.code !== undefined) return res.status(409).end();
          return next(e);
        }
        try {
          const body = createOrder(stats, req);
          await idem.onResponse(params, { body, additional: { status: 201 } });
          res.status(201).json(body);
        } catch (e) {
          next(e);
        }
      });
      return { listener: app, close: () => storage.disconnect() };
    },
  },
};

const module = fileURLToPath(import.meta.url);
const ids = Object.keys(contenders);
const request = { method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' }, body: ORDER };

export const scenarios = [
  {
    id: 'idempotency-first',
    title: 'Idempotent POST, first request with a key',
    group: 'idempotency',
    module,
    kind: 'http',
    connections: 32,
    request,
    vary: { kind: 'header-unique', header: 'idempotency-key', prefix: 'first-' },
    description: 'Every request carries a new `Idempotency-Key` and a small JSON body; the handler runs and its 201 response is stored. Bytes per item: 10,000 stored responses.',
    contenders: ids.map((id) => ({ id, ...contenders[id], noFill: contenders[id].kind === 'ceiling' })),
    fill: { count: 10_000, request, vary: { kind: 'header-unique', header: 'idempotency-key', prefix: 'fill-' } },
    targets: [{ contender: 'rediskit', label: 'rediskit first request', roundTrips: 2 }],
    analysis:
      'The issue sets no throughput target for the first request, and here rediskit is behind the floor and the peer: it spends more app CPU per request (the "app CPU" column). A CPU profile of this scenario (`node bench/cpu.mjs idempotency-first --only floor,rediskit --prof DIR`) spreads that cost over the work the floor does not do: it hashes the canonical JSON body into a fingerprint (a retry with another body gets 422), renews the lease while the handler runs, tees the response as the app writes it and holds its last bytes until the record is stored (so a retry sent the moment the client has the answer is replayed, never 409), and publishes the completion to any waiting duplicates. No single step stands out. Each costs a few microseconds.',
  },
  {
    id: 'idempotency-replay',
    title: 'Idempotent POST, replay',
    group: 'idempotency',
    module,
    kind: 'http',
    connections: 32,
    request,
    expectNoOrigin: true,
    description: `Every request repeats one of ${REPLAY_KEYS} keys whose first request completed before the round: the stored response is replayed and the handler does not run.`,
    contenders: ids.map((id) => ({ id, ...contenders[id] })),
    async prepare({ contender, target }) {
      if (contender.kind === 'ceiling') return {};
      const run = randomBytes(4).toString('hex');
      const keys = Array.from({ length: REPLAY_KEYS }, (_, i) => `replay-${run}-${i}`);
      for (const key of keys) {
        const res = await fetch(`${target}/orders`, { method: 'POST', headers: { ...request.headers, 'idempotency-key': key }, body: JSON.stringify(ORDER) });
        await res.arrayBuffer();
        if (res.status !== 201) throw new Error(`first request answered ${res.status}`);
      }
      return { vary: { kind: 'header-cycle', header: 'idempotency-key', values: keys } };
    },
    async check({ contender, origin, requests }) {
      if (contender.kind !== 'ceiling' && origin > 0) throw new Error(`${origin} of ${requests} replays ran the handler`);
    },
    targets: [{ contender: 'rediskit', label: 'rediskit replay', roundTrips: 1 }],
  },
];
