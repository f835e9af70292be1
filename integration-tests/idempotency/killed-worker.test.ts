import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, IDEMPOTENCY_PROBLEM_TYPES, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import type { ChildProcess } from 'node:child_process';
import { ADAPTERS, bundleWorker, startWorker } from '../harness';
import { buildApp, type TestApp } from './apps';
import { newKey, send } from './client';

function nextMessage<T>(child: ChildProcess, pick: (m: any) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      const v = pick(m);
      if (v === undefined) return;
      child.off('message', onMessage);
      resolve(v);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
  });
}

let workerFile: string;
beforeAll(async () => {
  workerFile = await bundleWorker(new URL('./__fixtures__/idempotency-worker.ts', import.meta.url));
});

describe.each(ADAPTERS)('a worker killed mid-request, retried through %s', (adapter) => {
  let kit: RedisKit;
  let app: TestApp;
  let prefix: string;
  let url: string;

  beforeAll(async () => {
    url = await sharedRedisUrl();
    prefix = uniquePrefix(`idem-kill-${adapter}`);
    kit = createRedisKit({ url, prefix, operationTimeout: 1000 });
    await kit.ready();
    app = await buildApp(adapter, kit);
  });
  afterAll(async () => {
    await app.close();
    await kit.close();
  });

  it('holds the key while the worker lives, then lets exactly one retry run once the lease lapses', async () => {
    const worker = startWorker(workerFile, { url, prefix });
    try {
      const port = await nextMessage(worker, (m) => (m as { port?: number }).port);
      const key = newKey();
      const started = nextMessage(worker, (m) => ((m as { started?: boolean }).started ? true : undefined));
      const lost = send(`http://127.0.0.1:${port}`, '/orders', { key, body: { sku: 'k' } }).catch(() => 'connection lost');
      await started;
      // The worker renews its lease: a retry now finds the key in progress.
      const during = await send(app.url, '/orders', { key, body: { sku: 'k' } });
      expect(during.status).toBe(409);
      expect(during.json()).toMatchObject({ type: IDEMPOTENCY_PROBLEM_TYPES.inFlight });
      worker.kill('SIGKILL');
      expect(await lost).toBe('connection lost');

      const statuses: number[] = [];
      await waitFor('a retry runs', async () => {
        const r = await send(app.url, '/orders', { key, body: { sku: 'k' } });
        statuses.push(r.status);
        return r.status === 201;
      }, 20_000, 100);
      expect(new Set(statuses.slice(0, -1))).toEqual(new Set(statuses.length > 1 ? [409] : []));
      expect(app.control.calls.orders).toBe(1);
      const replay = await send(app.url, '/orders', { key, body: { sku: 'k' } });
      expect(replay.headers['idempotent-replayed']).toBe('true');
    } finally {
      worker.kill('SIGKILL');
    }
  });
});
