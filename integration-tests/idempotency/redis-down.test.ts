import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, PROBLEM_TYPES, type RedisKit } from '@rediskit/core';
import { startRedis, uniquePrefix, waitFor, type StartedRedis } from '@rediskit/testing';
import { ADAPTERS } from '../harness';
import { buildApp, type TestApp } from './apps';
import { newKey, recordEvents, send } from './client';

// Each request is bounded by the operation timeout (200 ms here); the
// client-side timeout below is only a guard against a hang, far above it.
const GUARD = 5000;

describe.each(ADAPTERS)('idempotency with Redis stopped, through %s', (adapter) => {
  let redis: StartedRedis;
  let kit: RedisKit;
  let closed: TestApp;
  let open: TestApp;
  let events: ReturnType<typeof recordEvents>;

  beforeAll(async () => {
    redis = await startRedis();
    kit = createRedisKit({ url: redis.url, prefix: uniquePrefix(`idem-down-${adapter}`), operationTimeout: 200, logger: false });
    await kit.ready();
    events = recordEvents(kit);
    closed = await buildApp(adapter, kit);
    open = await buildApp(adapter, kit, { failPolicy: 'open' });
  });
  afterAll(async () => {
    events.stop();
    await closed.close();
    await open.close();
    await kit.close();
    await redis.stop();
  });

  it('answers a request whose Redis died while the handler ran, and reports the failed store', async () => {
    const key = newKey();
    const gate = closed.control.gate('orders');
    const pending = send(closed.url, '/orders', { key, body: { sku: 'x' }, timeout: GUARD });
    await waitFor('claimed', async () => events.count('idempotency:claimed') === 1);
    await redis.kill();
    gate.open();
    const r = await pending;
    expect(r.status).toBe(201);
    expect(r.json()).toEqual({ id: 1, body: { sku: 'x' } });
    await waitFor('store-error', async () => events.count('store-error', (p) => p.feature === 'idempotency' && p.operation === 'complete') === 1);
  });

  it('fails closed by default: 503 problem+json with Retry-After, handler not run', async () => {
    const before = closed.control.calls.orders ?? 0;
    for (let i = 0; i < 5; i++) {
      const r = await send(closed.url, '/orders', { key: newKey(), body: { i }, timeout: GUARD });
      expect(r.status).toBe(503);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(r.json()).toMatchObject({ type: PROBLEM_TYPES.unavailable, status: 503 });
    }
    expect(closed.control.calls.orders ?? 0).toBe(before);
    expect(events.count('store-error', (p) => p.feature === 'idempotency' && p.operation === 'claim' && p.policy === 'closed')).toBe(5);
  });

  it('fails open by option: the handler runs unprotected, without the replay marker', async () => {
    const key = newKey();
    const a = await send(open.url, '/orders', { key, body: { o: 1 }, timeout: GUARD });
    const b = await send(open.url, '/orders', { key, body: { o: 1 }, timeout: GUARD });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(open.control.calls.orders).toBe(2);
    expect(events.count('store-error', (p) => p.feature === 'idempotency' && p.policy === 'open')).toBeGreaterThanOrEqual(2);
  });

  it('recovers by itself when Redis is back', async () => {
    await redis.restart();
    await waitFor('ready', async () => kit.state === 'ready');
    const key = newKey();
    expect((await send(closed.url, '/orders', { key, body: { back: true }, timeout: GUARD })).status).toBe(201);
    const replay = await send(closed.url, '/orders', { key, body: { back: true }, timeout: GUARD });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(events.count('recovered', (p) => p.feature === 'idempotency')).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 within the operation timeout while Redis does not answer (paused)', async () => {
    redis.process.pause();
    try {
      const r = await send(closed.url, '/orders', { key: newKey(), body: { p: 1 }, timeout: GUARD });
      expect(r.status).toBe(503);
      expect(r.json()).toMatchObject({ type: PROBLEM_TYPES.unavailable });
    } finally {
      redis.process.resume();
    }
    await waitFor('answers again', async () => (await send(closed.url, '/orders', { key: newKey(), body: {}, timeout: GUARD })).status === 201);
  });
});
