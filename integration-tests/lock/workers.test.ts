import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLockManager, createRedisKit, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import { bundleWorker, runWorkers, startWorker } from '../harness';

// Locks across real processes: each worker is a separate Node process with
// its own connection, bundled from the current source.
describe('locks across processes', () => {
  let url: string;
  let prefix: string;
  let kit: RedisKit;
  beforeAll(async () => {
    url = await sharedRedisUrl();
    prefix = uniquePrefix('lock-proc');
    kit = createRedisKit({ url, prefix, logger: false, operationTimeout: 5000 });
    await kit.ready();
  });
  afterAll(() => kit.close());

  it('20 workers doing acquire / read / write / release lose no increment, in fencing-token order', async () => {
    const file = await bundleWorker(new URL('./__fixtures__/counter-worker.ts', import.meta.url));
    const times = 10;
    const results = await runWorkers<{ index: number; sections: Array<{ fence: number; read: number }> }>(file, 20, {
      url,
      prefix,
      times,
    });
    expect(await kit.redis.get(kit.keys.key('counter'))).toBe(String(20 * times));
    // Every value was read exactly once, and the holders that read later got
    // larger fencing tokens: the lock was held by one worker at a time.
    const sections = results.flatMap((r) => r.sections).sort((a, b) => a.read - b.read);
    expect(sections.map((s) => s.read)).toEqual(Array.from({ length: 20 * times }, (_, i) => i));
    for (let i = 1; i < sections.length; i++) expect(sections[i]!.fence).toBeGreaterThan(sections[i - 1]!.fence);
    await kit.redis.del(kit.keys.key('counter'));
  }, 90_000);

  it("a killed holder's lock (extended by using() until the kill) is free after its ttl", async () => {
    const file = await bundleWorker(new URL('./__fixtures__/holder-worker.ts', import.meta.url));
    const ttl = 2000;
    const child = startWorker(file, { url, prefix, resource: 'nightly', ttl });
    const held = await new Promise<{ fence: number; token: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { fence: number; token: string }));
      child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
    const locks = createLockManager(kit, { ttl: 10_000 });
    // Alive, the holder keeps extending: it still holds the lock after more than one ttl.
    await new Promise((resolve) => setTimeout(resolve, ttl * 1.5));
    expect(await locks.tryAcquire('nightly')).toBeNull();
    expect((await locks.status('nightly')).fence).toBe(held.fence);

    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // Nobody releases it; it runs out after at most one ttl and a waiter gets it.
    const next = await locks.acquire('nightly', { timeout: 20_000 });
    expect(next.fence).toBeGreaterThan(held.fence);
    await next.release();
  }, 60_000);
});
