import { expect, it } from '@jest/globals';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import { Redis } from 'ioredis';
import { bundleWorker, runWorkers } from './processes';

it('runs workers from source in child processes', async () => {
  const file = await bundleWorker(new URL('./__fixtures__/incr-worker.ts', import.meta.url));
  const url = await sharedRedisUrl();
  const prefix = uniquePrefix('proc');
  const results = await runWorkers<{ index: number; last: number }>(file, 4, { url, prefix, times: 25 });
  expect(results.map((r) => r.index).sort()).toEqual([0, 1, 2, 3]);
  const redis = new Redis(url);
  expect(await redis.get(`${prefix}:n`)).toBe('100');
  await redis.del(`${prefix}:n`);
  redis.disconnect();
});
