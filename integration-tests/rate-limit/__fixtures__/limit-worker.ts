import './shift-clock';
import { createRedisKit, type HttpRateLimitOptions } from '@rediskit/core';
import { attachRedisKit, rateLimit } from '@rediskit/express';
import express from 'express';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// A separate process running an Express app with rediskit rate limits, for
// the multi-process tests. It sends traffic to itself and reports what it got.

interface Input {
  index: number;
  url?: string;
  clusterNodes?: Array<{ host: string; port: number }>;
  prefix: string;
  mode: 'burst' | 'hold' | 'trace';
  /** burst: requests per route, all at once. */
  perWorker?: number;
  /** burst: the total over all workers (the concurrency route waits until all were decided). */
  total?: number;
  /** trace: requests to send one after the other, with their x-user header. */
  steps?: string[];
  clockShiftMs?: number;
}

const input = JSON.parse(process.argv[2]!) as Input;
const DAY = 86_400_000;
const kit = createRedisKit({
  ...(input.clusterNodes ? { cluster: { nodes: input.clusterNodes } } : { url: input.url! }),
  prefix: input.prefix,
  logger: false,
  operationTimeout: 5000,
});
const barrier = kit.keys.key('barrier');

function send(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const routes: Array<[string, HttpRateLimitOptions]> = [
  ['/fixed', { algorithm: 'fixed-window', limit: 100, window: DAY }],
  ['/sliding', { algorithm: 'sliding-window', limit: 100, window: DAY }],
  ['/token', { algorithm: 'token-bucket', limit: 100, window: DAY }],
  ['/gcra', { algorithm: 'gcra', limit: 100, window: DAY }],
  ['/concurrency', { policies: [{ name: 'inflight', algorithm: 'concurrency', limit: 100 }] }],
  [
    '/multi',
    {
      policies: [
        { name: 'per-ip', algorithm: 'fixed-window', limit: 100, window: DAY },
        { name: 'per-user', algorithm: 'gcra', limit: 150, window: DAY, key: (req: express.Request) => req.headers['x-user'] as string },
      ],
    },
  ],
];

async function main(): Promise<void> {
  await kit.ready(20_000);
  const app = express();
  attachRedisKit(app, kit);
  for (const [path, options] of routes) {
    app.get(path, rateLimit(options), async (_req, res) => {
      if (path === '/concurrency') {
        await kit.redis.incr(barrier);
        // Hold the slot until every request of every worker has been decided.
        const deadline = Date.now() + 60_000;
        while (Number(await kit.redis.get(barrier)) < input.total! && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      }
      res.json({ ok: true });
    });
  }
  app.get('/hold', rateLimit({ policies: [{ name: 'inflight', algorithm: 'concurrency', limit: 2 }], leaseTtl: 2000 }), () => {
    process.send!({ holding: true });
    // Never answers: the process is killed while it holds its slots.
  });
  app.get('/trace', rateLimit({
    policies: [
      { name: 'fixed', algorithm: 'fixed-window', limit: 5, window: 60_000 },
      { name: 'rate', algorithm: 'gcra', limit: 5, window: 10_000 },
    ],
  }), (_req, res) => {
    res.json({ ok: true });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;

  if (input.mode === 'hold') {
    void send(port, '/hold');
    void send(port, '/hold');
    return;
  }
  if (input.mode === 'trace') {
    const trace: unknown[] = [];
    for (const user of input.steps!) {
      const r = await send(port, '/trace', { 'x-user': user });
      trace.push([r.status, r.headers.ratelimit ?? null, r.headers['retry-after'] ?? null]);
    }
    const skew = Date.now() - (await kit.time());
    process.send!({ index: input.index, trace, skew });
  } else {
    const counts: Record<string, Record<string, number>> = {};
    for (const [path] of routes) {
      const results = await Promise.all(
        Array.from({ length: input.perWorker! }, async () => {
          const r = await send(port, path, { 'x-user': 'same-user' });
          if (path === '/concurrency' && r.status !== 200) await kit.redis.incr(barrier);
          return r.status;
        }),
      );
      counts[path] = {};
      for (const s of results) counts[path]![s] = (counts[path]![s] ?? 0) + 1;
    }
    process.send!({ index: input.index, counts });
  }
  server.closeAllConnections();
  server.close();
  await kit.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
