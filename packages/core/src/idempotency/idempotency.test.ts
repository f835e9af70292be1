import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { createRedisKit, type RedisKit } from '../redis/redis-kit';
import { IdempotencyEngine, type IdempotencyDecision } from './idempotency';
import type { IdempotencyRequest } from './options';

function request(key: string, body: unknown = { a: 1 }): IdempotencyRequest {
  return {
    method: 'POST',
    path: '/pay',
    headers: { 'content-type': 'application/json', 'content-length': '7' },
    rawHeaders: ['Idempotency-Key', key],
    body,
    native: undefined,
  };
}

const claimOf = (d: IdempotencyDecision) => {
  if (d.action !== 'proceed' || !d.claim) throw new Error(`expected a claim, got ${d.action}`);
  return d.claim;
};

// The engine without HTTP: wait-mode wake-ups and their bounds.
describe('IdempotencyEngine wait mode', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('idem-engine'), operationTimeout: 1000 });
    await kit.ready();
  });
  afterAll(() => kit.close());

  it('wakes a waiter when the first request releases the key; the waiter then runs the handler itself', async () => {
    const engine = new IdempotencyEngine(kit, { wait: true, lease: 5000 });
    const first = claimOf(await engine.begin(request('release-key-1')));
    const waiting = engine.begin(request('release-key-1'));
    await waitFor('waiting', async () => engine.waitingChannels === 1);
    await first.release('error');
    const second = await waiting;
    expect(second.action).toBe('proceed');
    await claimOf(second).release('error');
    expect(engine.waitingChannels).toBe(0);
  });

  it('gives up after waitTimeout with 409 and unsubscribes', async () => {
    const engine = new IdempotencyEngine(kit, { wait: true, waitTimeout: 300, lease: 5000 });
    const first = claimOf(await engine.begin(request('timeout-key-1')));
    const waited = await engine.begin(request('timeout-key-1'));
    expect(waited.action === 'respond' && waited.response.status).toBe(409);
    expect(engine.waitingChannels).toBe(0);
    await first.release('error');
  });

  it('wakes when a crashed owner’s lease lapses (nothing is published) and claims the key', async () => {
    const engine = new IdempotencyEngine(kit, { wait: true, waitTimeout: 10_000, lease: 300, maxProcessingTime: 300 });
    const crashed = claimOf(await engine.begin(request('lapse-key-1')));
    // Stop renewing as a dead process would: maxProcessingTime equals the lease.
    const waiter = await engine.begin(request('lapse-key-1'));
    expect(waiter.action).toBe('proceed');
    expect(crashed.phase).toBe('running');
    await claimOf(waiter).release('error');
  });

  it('answers 422 to a waiter with a different body without waiting', async () => {
    const engine = new IdempotencyEngine(kit, { wait: true, lease: 5000 });
    const first = claimOf(await engine.begin(request('mismatch-key-1', { a: 1 })));
    const other = await engine.begin(request('mismatch-key-1', { a: 2 }));
    expect(other.action === 'respond' && other.response.status).toBe(422);
    await first.release('error');
  });
});
