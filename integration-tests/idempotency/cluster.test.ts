import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createRedisKit, type RedisKit } from '@rediskit/core';
import { sharedClusterNodes, uniquePrefix, waitFor } from '@rediskit/testing';
import { ADAPTERS } from '../harness';
import { buildApp, type TestApp } from './apps';
import { newKey, recordEvents, send } from './client';

// The cluster-sensitive parts on the local 6-node Cluster: the claim and
// complete scripts on whichever master owns the key's slot, and wait mode,
// whose wake-up is a PUBLISH from a script on that master reaching a
// subscriber connected to any node.
describe.each(ADAPTERS)('idempotency on Redis Cluster through %s', (adapter) => {
  let kit: RedisKit;
  let app: TestApp;
  let events: ReturnType<typeof recordEvents>;

  beforeAll(async () => {
    kit = createRedisKit({ cluster: { nodes: await sharedClusterNodes() }, prefix: uniquePrefix(`idem-cluster-${adapter}`), operationTimeout: 1000 });
    await kit.ready();
    app = await buildApp(adapter, kit);
  });
  afterAll(async () => {
    await app.close();
    await kit.close();
  });
  beforeEach(() => {
    events = recordEvents(kit);
  });
  afterEach(() => {
    events.stop();
    app.control.reset();
  });

  it('runs the handler once for 50 concurrent duplicates (409 for the others), and replays after', async () => {
    const key = newKey();
    const gate = app.control.gate('orders');
    const pending = Array.from({ length: 50 }, () => send(app.url, '/orders', { key, body: { c: 1 } }));
    await waitFor('49 conflicts', async () => events.count('idempotency:conflict') === 49);
    gate.open();
    const statuses = (await Promise.all(pending)).map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array(49).fill(409)]);
    const replay = await send(app.url, '/orders', { key, body: { c: 1 } });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(app.control.calls.orders).toBe(1);
  });

  it('wakes 50 waiting duplicates through Pub/Sub with the identical response', async () => {
    const key = newKey();
    const gate = app.control.gate('ordersWait');
    const pending = Array.from({ length: 50 }, () => send(app.url, '/orders-wait', { key, body: { w: 1 } }));
    await waitFor('49 waiting', async () => events.count('idempotency:conflict', (p) => p.waiting) === 49);
    gate.open();
    const responses = await Promise.all(pending);
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));
    expect(new Set(responses.map((r) => r.body.toString('hex'))).size).toBe(1);
    expect(app.control.calls.ordersWait).toBe(1);
  });

  it('keeps keys of many requests on every master, and answers mismatch and release there', async () => {
    for (let i = 0; i < 12; i++) {
      const key = newKey();
      expect((await send(app.url, '/orders', { key, body: { i } })).status).toBe(201);
      expect((await send(app.url, '/orders', { key, body: { i: i + 1 } })).status).toBe(422);
      const flakyKey = newKey();
      app.control.reset();
      expect((await send(app.url, '/flaky', { key: flakyKey, body: { i } })).status).toBe(500);
      expect((await send(app.url, '/flaky', { key: flakyKey, body: { i } })).status).toBe(201);
    }
    const perMaster = await Promise.all(
      kit.masters().map(async (node) => (await node.keys(`${kit.keys.prefix}:*`)).length),
    );
    expect(perMaster.filter((n) => n > 0).length).toBe(3);
  });
});
