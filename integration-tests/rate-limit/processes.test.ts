import { beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, RateLimiter, type RedisKitOptions } from '@rediskit/core';
import { sharedClusterNodes, sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { parseList } from 'structured-headers';
import { bundleWorker, runWorkers, startWorker } from '../harness';

// Several app processes against one Redis: each is a real Express app in a
// child process (built from the current source), sending traffic to itself.

let worker: string;
beforeAll(async () => {
  worker = await bundleWorker(new URL('./__fixtures__/limit-worker.ts', import.meta.url));
});

type Counts = Record<string, Record<string, number>>;

const ROUTES = ['/fixed', '/sliding', '/token', '/gcra', '/concurrency', '/multi'];

async function burst(connection: { url: string } | { clusterNodes: Array<{ host: string; port: number }> }): Promise<{ total: Counts; multi: number[] }> {
  const prefix = uniquePrefix('rlp');
  const results = await runWorkers<{ counts: Counts }>(worker, 4, { ...connection, prefix, mode: 'burst', perWorker: 250, total: 1000 });
  const total: Counts = {};
  for (const { counts } of results) {
    for (const [route, byStatus] of Object.entries(counts)) {
      total[route] ??= {};
      for (const [status, n] of Object.entries(byStatus)) total[route]![status] = (total[route]![status] ?? 0) + n;
    }
  }
  // The two-policy route, read from here: the 900 rejected requests charged neither policy.
  const options: RedisKitOptions = 'url' in connection ? { url: connection.url } : { cluster: { nodes: connection.clusterNodes } };
  const kit = createRedisKit({ ...options, prefix, logger: false });
  await kit.ready();
  const multi = new RateLimiter(kit, {
    name: 'GET /multi',
    hashTag: 'limiter',
    policies: [
      { name: 'per-ip', algorithm: 'fixed-window', limit: 100, window: 86_400_000 },
      { name: 'per-user', algorithm: 'gcra', limit: 150, window: 86_400_000 },
    ],
  });
  const state = await multi.get({ 'per-ip': '127.0.0.1', 'per-user': 'same-user' }, { cost: 0 });
  await kit.close();
  return { total, multi: state.policies.map((p) => p.remaining) };
}

const exactly100 = Object.fromEntries(ROUTES.map((r) => [r, { '200': 100, '429': 900 }]));

describe('1000 concurrent requests for one client over 4 processes, limit 100', () => {
  it('admit exactly 100 with every algorithm and with two policies, on standalone Redis', async () => {
    expect(await burst({ url: await sharedRedisUrl() })).toEqual({ total: exactly100, multi: [0, 50] });
  }, 120_000);

  const onCluster = process.env.REDISKIT_TEST_NO_CLUSTER === '1' ? it.skip : it;
  onCluster('admit exactly 100 on the 6-node Cluster, with no CROSSSLOT', async () => {
    expect(await burst({ clusterNodes: await sharedClusterNodes() })).toEqual({ total: exactly100, multi: [0, 50] });
  }, 120_000);
});

describe('a process that dies', () => {
  it('frees its concurrency slots when its leases expire', async () => {
    const url = await sharedRedisUrl();
    const prefix = uniquePrefix('rlk');
    const child = startWorker(worker, { url, prefix, mode: 'hold', index: 0 });
    let holding = 0;
    child.on('message', () => holding++);
    await waitFor('the worker to hold both slots', async () => holding === 2, 30_000);
    const kit = createRedisKit({ url, prefix, logger: false });
    await kit.ready();
    // The same limiter as the worker's route, seen from here.
    const l = new RateLimiter(kit, { name: 'GET /hold', policies: [{ name: 'inflight', algorithm: 'concurrency', limit: 2 }], leaseTtl: 2000 });
    expect((await l.get('127.0.0.1')).allowed).toBe(false);
    child.kill('SIGKILL');
    await waitFor('the dead process\'s leases to expire', async () => (await l.get('127.0.0.1')).allowed, 10_000, 25);
    await waitFor('the lease key to vanish', async () => (await kit.redis.exists(l.keysFor('127.0.0.1').state[0]!)) === 0, 10_000, 25);
    await kit.close();
  }, 60_000);
});

describe('clock skew', () => {
  const steps = ['a', 'a', 'a', 'a', 'a', 'a', 'a'];
  type Trace = { trace: Array<[number, string | null, string | null]>; skew: number };

  const decisions = (t: Trace) =>
    t.trace.map(([status, rl, retryAfter]) => [
      status,
      rl ? parseList(rl).map(([n, p]) => [n, (p as Map<string, unknown>).get('r')]) : null,
      retryAfter === null ? null : Number(retryAfter) >= 55 && Number(retryAfter) <= 60,
    ]);

  it('an app process whose clock is 30 s ahead makes identical decisions', async () => {
    const url = await sharedRedisUrl();
    const [normal, shifted] = await Promise.all([
      runWorkers<Trace>(worker, 1, { url, prefix: uniquePrefix('rls'), mode: 'trace', steps }),
      runWorkers<Trace>(worker, 1, { url, prefix: uniquePrefix('rls'), mode: 'trace', steps, clockShiftMs: 30_000 }),
    ]);
    // The shift is real...
    expect(Math.abs(normal[0]!.skew)).toBeLessThan(5_000);
    expect(shifted[0]!.skew).toBeGreaterThan(25_000);
    // ...and changes nothing.
    expect(decisions(shifted[0]!)).toEqual(decisions(normal[0]!));
    expect(decisions(normal[0]!).map(([s]) => s)).toEqual([200, 200, 200, 200, 200, 429, 429]);
  }, 60_000);

  it('processes with different clocks share one bucket without granting extra quota', async () => {
    const url = await sharedRedisUrl();
    const prefix = uniquePrefix('rls');
    const [first] = await runWorkers<Trace>(worker, 1, { url, prefix, mode: 'trace', steps: ['a', 'a', 'a'] });
    const [later] = await runWorkers<Trace>(worker, 1, { url, prefix, mode: 'trace', steps: ['a', 'a', 'a'], clockShiftMs: 30_000 });
    expect([...first!.trace, ...later!.trace].map(([s]) => s)).toEqual([200, 200, 200, 200, 200, 429]);
  }, 60_000);
});
