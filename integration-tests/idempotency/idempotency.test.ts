import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createRedisKit, IDEMPOTENCY_PROBLEM_TYPES, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { request as httpRequest } from 'node:http';
import { Controller, Post } from '@nestjs/common';
import * as rkExpress from '@rediskit/express';
import * as rkKoa from '@rediskit/koa';
import { Idempotent, RedisKitModule } from '@rediskit/nestjs';
import { ADAPTERS, createNestApp } from '../harness';
import { buildApp, type TestApp } from './apps';
import { newKey, recordEvents, send } from './client';

describe.each(ADAPTERS)('idempotency through %s', (adapter) => {
  let kit: RedisKit;
  let app: TestApp;
  let events: ReturnType<typeof recordEvents>;

  beforeAll(async () => {
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix(`idem-${adapter}`), operationTimeout: 1000 });
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

  it('rejects bad configuration when the middleware is created, with a coded error', async () => {
    const make = { express: rkExpress.idempotency, koa: rkKoa.idempotency, nestjs: Idempotent }[adapter] as (o: object) => unknown;
    for (const bad of [{ lease: 1 }, { replayHeaders: ['Set-Cookie'] }, { methods: ['GET'] }, { minKeyLength: 0 }]) {
      expect(() => make(bad)).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
    }
    expect(() => make({ retension: 5 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_UNKNOWN_OPTION' }));
    if (adapter === 'nestjs') {
      class Bad {
        @Post('x')
        @Idempotent()
        x() {
          return 1;
        }
      }
      Controller()(Bad);
      await expect(
        createNestApp({ imports: [RedisKitModule.forRoot({ kit, idempotency: { lease: 1 } })], controllers: [Bad] }),
      ).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_OPTION' });
    }
  });

  it('runs the handler once for 50 concurrent identical POSTs; the others get 409 problem+json with Retry-After, none 5xx', async () => {
    const key = newKey();
    const gate = app.control.gate('orders');
    const pending = Array.from({ length: 50 }, () => send(app.url, '/orders', { key, body: { sku: 'book', qty: 1 } }));
    // Hold the first handler until every duplicate has been answered.
    await waitFor('49 conflicts', async () => events.count('idempotency:conflict', (p) => p.path === '/orders') === 49);
    gate.open();
    const responses = await Promise.all(pending);
    expect(app.control.calls.orders).toBe(1);
    expect(responses.filter((r) => r.status >= 500)).toHaveLength(0);
    const created = responses.filter((r) => r.status === 201);
    const conflicts = responses.filter((r) => r.status === 409);
    expect(created).toHaveLength(1);
    expect(conflicts).toHaveLength(49);
    for (const c of conflicts) {
      expect(c.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(Number(c.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(c.json()).toMatchObject({ type: IDEMPOTENCY_PROBLEM_TYPES.inFlight, status: 409 });
    }
    expect(created[0]!.headers['idempotent-replayed']).toBeUndefined();
  });

  it('in wait mode, 50 concurrent identical POSTs run the handler once and all get the identical response', async () => {
    const key = newKey();
    const gate = app.control.gate('ordersWait');
    const pending = Array.from({ length: 50 }, () => send(app.url, '/orders-wait', { key, body: { sku: 'pen' } }));
    await waitFor('49 waiting', async () => events.count('idempotency:conflict', (p) => p.path === '/orders-wait' && p.waiting) === 49);
    gate.open();
    const responses = await Promise.all(pending);
    expect(app.control.calls.ordersWait).toBe(1);
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));
    const bodies = new Set(responses.map((r) => r.body.toString('hex')));
    expect(bodies.size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(49);
    expect(new Set(responses.map((r) => r.headers.location))).toEqual(new Set(['/orders/1']));
  });

  it('replays the same status, body bytes and allowlisted headers, never Set-Cookie, with the marker only on the replay', async () => {
    const key = newKey();
    const first = await send(app.url, '/orders', { key, body: { sku: 'lamp', note: 'ünïcödé ✓' } });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(first.headers['set-cookie']).toBeDefined();
    const replay = await send(app.url, '/orders', { key, body: { sku: 'lamp', note: 'ünïcödé ✓' } });
    expect(replay.status).toBe(201);
    expect(replay.body.equals(first.body)).toBe(true);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    for (const h of ['location', 'etag', 'content-type', 'cache-control']) expect(replay.headers[h]).toBe(first.headers[h]);
    expect(replay.headers['set-cookie']).toBeUndefined();
    expect(replay.headers['x-trace']).toBeUndefined();
    expect(app.control.calls.orders).toBe(1);
    expect(events.count('idempotency:replayed')).toBe(1);
  });

  it('answers 422 to the key reused with a different body, also while the first request is in flight (before 409)', async () => {
    const key = newKey();
    const gate = app.control.gate('orders');
    const first = send(app.url, '/orders', { key, body: { sku: 'a' } });
    await waitFor('claimed', async () => events.count('idempotency:claimed') === 1);
    const inFlight = await send(app.url, '/orders', { key, body: { sku: 'b' } });
    expect(inFlight.status).toBe(422);
    expect(inFlight.json()).toMatchObject({ type: IDEMPOTENCY_PROBLEM_TYPES.keyReused, status: 422 });
    expect(inFlight.headers['content-type']).toMatch(/^application\/problem\+json/);
    gate.open();
    expect((await first).status).toBe(201);
    const after = await send(app.url, '/orders', { key, body: { sku: 'b' } });
    expect(after.status).toBe(422);
    // A different query string is a different request too.
    expect((await send(app.url, '/orders?channel=web', { key, body: { sku: 'a' } })).status).toBe(422);
    expect(app.control.calls.orders).toBe(1);
    expect(events.count('idempotency:mismatch')).toBe(3);
  });

  it('validates the key before any lookup: missing, too short, too long, bad characters, two headers', async () => {
    const before = new Set<string>();
    for await (const k of kit.scan(`${kit.keys.prefix}:*`)) before.add(k);
    const missing = await send(app.url, '/orders', { key: null, body: { a: 1 } });
    expect(missing.status).toBe(400);
    expect(missing.json()).toMatchObject({ type: IDEMPOTENCY_PROBLEM_TYPES.keyMissing, status: 400 });
    for (const key of ['short', 'x'.repeat(256), 'has space', 'bad<chars>', 'clé-clé-clé', '"unterminated', '""']) {
      const r = await send(app.url, '/orders', { key, body: { a: 1 } });
      expect([key, r.status]).toEqual([key, 400]);
      expect(r.json()).toMatchObject({ type: IDEMPOTENCY_PROBLEM_TYPES.keyInvalid });
    }
    const two = await send(app.url, '/orders', { key: [newKey(), newKey()], body: { a: 1 } });
    expect(two.status).toBe(400);
    expect(app.control.calls.orders).toBeUndefined();
    // Nothing was stored for any of them.
    const added: string[] = [];
    for await (const k of kit.scan(`${kit.keys.prefix}:*`)) if (!before.has(k)) added.push(k);
    expect(added).toEqual([]);
    expect(events.count('idempotency:rejected')).toBe(9);
  });

  it('treats the quoted sf-string and the bare form as one key', async () => {
    const key = newKey();
    const quoted = await send(app.url, '/orders', { key: `"${key}"`, body: { q: 1 } });
    const bare = await send(app.url, '/orders', { key, body: { q: 1 } });
    expect(quoted.status).toBe(201);
    expect(bare.status).toBe(201);
    expect(bare.headers['idempotent-replayed']).toBe('true');
    expect(bare.body.equals(quoted.body)).toBe(true);
  });

  it('passes requests without a key through untouched on optional routes, and other methods always', async () => {
    const a = await send(app.url, '/optional', { key: null, body: { x: 1 } });
    const b = await send(app.url, '/optional', { key: null, body: { x: 1 } });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(app.control.calls.optional).toBe(2);
    const key = newKey();
    const g1 = await send(app.url, '/orders', { method: 'get', key });
    const g2 = await send(app.url, '/orders', { method: 'get', key });
    expect([g1.json(), g2.json()]).toEqual([{ listed: 1 }, { listed: 2 }]);
  });

  it('scopes records by principal: two clients with one key never see each other’s response', async () => {
    const key = newKey();
    const alice = { authorization: 'Bearer alice-token' };
    const bob = { authorization: 'Bearer bob-token' };
    const a1 = await send(app.url, '/orders', { key, body: { who: 'alice' }, headers: alice });
    const b1 = await send(app.url, '/orders', { key, body: { who: 'bob' }, headers: bob });
    expect([a1.status, b1.status]).toEqual([201, 201]);
    expect(b1.headers['idempotent-replayed']).toBeUndefined();
    const a2 = await send(app.url, '/orders', { key, body: { who: 'alice' }, headers: alice });
    const b2 = await send(app.url, '/orders', { key, body: { who: 'bob' }, headers: bob });
    expect(a2.json()).toEqual(a1.json());
    expect(b2.json()).toEqual(b1.json());
    expect(a2.json().body).toEqual({ who: 'alice' });
    expect(app.control.calls.orders).toBe(2);
    // No credential in Redis keys.
    for await (const k of kit.scan(`${kit.keys.prefix}:*`)) expect(k).not.toMatch(/alice|bob|Bearer/);
  });

  it('fingerprints canonical JSON: reordered keys and whitespace replay; ignored fields do not count', async () => {
    const key = newKey();
    const first = await send(app.url, '/orders', { key, raw: '{"sku":"mug","qty":2,"opts":{"b":1,"a":[1,2]}}' });
    const reordered = await send(app.url, '/orders', { key, raw: '{ "opts": { "a": [1, 2], "b": 1 },\n  "qty": 2, "sku": "mug" }' });
    expect(first.status).toBe(201);
    expect(reordered.headers['idempotent-replayed']).toBe('true');
    expect(reordered.body.equals(first.body)).toBe(true);
    const fieldsKey = newKey();
    await send(app.url, '/fields', { key: fieldsKey, body: { amount: 5, sentAt: 1 } });
    const resent = await send(app.url, '/fields', { key: fieldsKey, body: { amount: 5, sentAt: 2 } });
    expect(resent.headers['idempotent-replayed']).toBe('true');
    expect((await send(app.url, '/fields', { key: fieldsKey, body: { amount: 6, sentAt: 1 } })).status).toBe(422);
  });

  it('fingerprints form bodies as parsed fields, and text bodies as bytes where the app parses text', async () => {
    const form = newKey();
    const f1 = await send(app.url, '/orders', { key: form, raw: 'sku=tea&qty=2', contentType: 'application/x-www-form-urlencoded' });
    const f2 = await send(app.url, '/orders', { key: form, raw: 'qty=2&sku=tea', contentType: 'application/x-www-form-urlencoded' });
    const f3 = await send(app.url, '/orders', { key: form, raw: 'qty=3&sku=tea', contentType: 'application/x-www-form-urlencoded' });
    expect([f1.status, f2.headers['idempotent-replayed'], f3.status]).toEqual([201, 'true', 422]);

    const text = newKey();
    const t1 = await send(app.url, '/orders', { key: text, raw: 'order: tea x2', contentType: 'text/plain' });
    const t2 = await send(app.url, '/orders', { key: text, raw: 'order: tea x3', contentType: 'text/plain' });
    expect(t1.status).toBe(201);
    if (adapter === 'nestjs') {
      // Nest's built-in parser reads JSON and forms only: the text is not seen, and an advisory says so.
      expect(t2.headers['idempotent-replayed']).toBe('true');
      expect(events.count('advisory', (p) => p.name === 'idempotencyBodyNotParsed')).toBe(1);
    } else {
      expect(t2.status).toBe(422);
    }
  });

  it('releases the key when the handler throws, so an immediate retry runs again; then replays', async () => {
    const key = newKey();
    const failed = await send(app.url, '/flaky', { key, body: { n: 1 } });
    expect(failed.status).toBe(500);
    const retried = await send(app.url, '/flaky', { key, body: { n: 1 } });
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    const replay = await send(app.url, '/flaky', { key, body: { n: 1 } });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(app.control.calls.flaky).toBe(2);
    expect(events.count('idempotency:released', (p) => p.path === '/flaky')).toBe(1);
  });

  it('stores 2xx and 4xx from the handler; 5xx and 429 release the key', async () => {
    for (const [status, stored] of [[200, true], [400, true], [404, true], [429, false], [500, false], [503, false]] as const) {
      const key = newKey();
      const before = app.control.calls.status ?? 0;
      const a = await send(app.url, '/status', { key, body: { status } });
      const b = await send(app.url, '/status', { key, body: { status } });
      expect([status, a.status, b.status]).toEqual([status, status, status]);
      expect([status, b.headers['idempotent-replayed']]).toEqual([status, stored ? 'true' : undefined]);
      expect([status, app.control.calls.status! - before]).toEqual([status, stored ? 1 : 2]);
    }
  });

  it('writes the record before the response finishes: a retry sent on receipt is a replay, never 409', async () => {
    for (let i = 0; i < 15; i++) {
      const key = newKey();
      const first = await send(app.url, '/orders', { key, body: { i } });
      const retry = await send(app.url, '/orders', { key, body: { i } });
      expect([i, first.status, retry.status, retry.headers['idempotent-replayed']]).toEqual([i, 201, 201, 'true']);
    }
  });

  it('keeps the key through a handler that outlives its lease many times (renewal), then replays', async () => {
    const key = newKey();
    const gate = app.control.gate('lease');
    const first = send(app.url, '/lease', { key, body: { long: true } });
    await waitFor('claimed', async () => events.count('idempotency:claimed', (p) => p.path === '/lease') === 1);
    const started = await kit.time();
    const duplicates: number[] = [];
    // Retry for more than three leases (1200 ms each) of server time.
    await waitFor('three leases', async () => {
      duplicates.push((await send(app.url, '/lease', { key, body: { long: true } })).status);
      return (await kit.time()) - started > 3700;
    }, 30_000, 100);
    gate.open();
    expect((await first).status).toBe(201);
    expect(new Set(duplicates)).toEqual(new Set([409]));
    expect(app.control.calls.lease).toBe(1);
    expect((await send(app.url, '/lease', { key, body: { long: true } })).headers['idempotent-replayed']).toBe('true');
  });

  it('forgets a completed record after the retention period; the key then runs again', async () => {
    const key = newKey();
    expect((await send(app.url, '/retention', { key, body: {} })).status).toBe(201);
    await waitFor('record expired', async () => {
      const r = await send(app.url, '/retention', { key, body: {} });
      return r.status === 201 && r.headers['idempotent-replayed'] === undefined;
    });
    expect(app.control.calls.retention).toBe(2);
  });

  it('stores the response of a client that disconnected mid-request, for its retry', async () => {
    const key = newKey();
    const gate = app.control.gate('orders');
    const { port } = new URL(app.url);
    const body = JSON.stringify({ gone: true });
    const req = httpRequest({ host: '127.0.0.1', port, path: '/orders', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'idempotency-key': key } });
    req.on('error', () => {});
    req.end(body);
    await waitFor('claimed', async () => events.count('idempotency:claimed', (p) => p.path === '/orders') === 1);
    req.destroy();
    const during = await send(app.url, '/orders', { key, body: { gone: true } });
    expect(during.status).toBe(409);
    gate.open();
    await waitFor('completed', async () => events.count('idempotency:completed', (p) => p.path === '/orders') === 1);
    const retry = await send(app.url, '/orders', { key, body: { gone: true } });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual({ id: 1, body: { gone: true } });
    expect(app.control.calls.orders).toBe(1);
  });

  it('stores a streamed response up to the cap and replays it byte for byte', async () => {
    const key = newKey();
    const first = await send(app.url, '/stream', { key, body: { chunks: 6, size: 8000 } });
    const replay = await send(app.url, '/stream', { key, body: { chunks: 6, size: 8000 } });
    expect(first.body.length).toBe(48_000);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.equals(first.body)).toBe(true);
    expect(app.control.calls.stream).toBe(1);
  });

  it('never leaves an oversized streamed response in progress: recorded as not replayable, or released by option', async () => {
    const key = newKey();
    const big = await send(app.url, '/stream', { key, body: { chunks: 10, size: 16_000 } });
    expect(big.body.length).toBe(160_000);
    const retry = await send(app.url, '/stream', { key, body: { chunks: 10, size: 16_000 } });
    expect(retry.status).toBe(409);
    expect(retry.json()).toMatchObject({ type: IDEMPOTENCY_PROBLEM_TYPES.notStored, 'original-status': 200 });
    expect(retry.headers['retry-after']).toBeUndefined();
    expect(app.control.calls.stream).toBe(1);

    const key2 = newKey();
    await send(app.url, '/stream-release', { key: key2, body: { chunks: 10, size: 16_000 } });
    await waitFor('released', async () => events.count('idempotency:released', (p) => p.path === '/stream-release') === 1);
    const again = await send(app.url, '/stream-release', { key: key2, body: { chunks: 10, size: 16_000 } });
    expect(again.status).toBe(200);
    expect(again.body.length).toBe(160_000);
    expect(app.control.calls.streamRelease).toBe(2);
  });
});
