import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, RedisCache, type RedisKit } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { ADAPTERS } from '../harness';
import { cacheStatus, startApp, type TestApp } from './apps';

// The storage layout: a response that does not vary is one key holding its
// body once behind a small header (no hash fields, no bookkeeping keys per
// URL), which keeps a stored entry within 200 bytes of a plain SET of the body.
describe.each(ADAPTERS)('a stored response through %s', (adapter) => {
  let kit: RedisKit;
  let app: TestApp;
  const body = 'x'.repeat(1024);

  beforeAll(async () => {
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix(`footprint-${adapter}`), operationTimeout: 2000, logger: false });
    await kit.ready();
    app = await startApp(adapter, kit, [
      { method: 'GET', path: '/plain/:id', cache: { ttl: 60_000 }, handler: () => ({ headers: { 'content-type': 'text/plain; charset=utf-8' }, body }) },
      { method: 'GET', path: '/tagged/:id', cache: { ttl: 60_000, tags: ['t1', 't2'] }, handler: () => ({ body }) },
      { method: 'GET', path: '/lang/:id', cache: { ttl: 60_000 }, handler: () => ({ headers: { vary: 'accept-language' }, body }) },
    ]);
  });
  afterAll(async () => {
    await app.close();
    await RedisCache.of(kit).idle();
    await kit.close();
  });

  const redis = () => kit.masters()[0] as Redis;
  const keys = async (path: string): Promise<string[]> => {
    const out: string[] = [];
    for await (const key of kit.scan(`${kit.keys.prefix}:*`)) out.push(key);
    // Only what this path wrote: tag records are shared, so they are counted by the caller.
    const store = RedisCache.of(kit).store;
    const { pk } = store.target('h', path);
    return out.filter((k) => k.includes(pk)).sort();
  };

  it('is one key, the body plus a header of at most 200 bytes, within 200 bytes of a plain SET', async () => {
    await request(app.url).get('/plain/1').expect(200, body);
    expect(cacheStatus((await request(app.url).get('/plain/1').expect(200, body)).headers).hit).toBe(true);
    const stored = await keys('/plain/1');
    expect(stored).toHaveLength(1);
    const [key] = stored as [string];
    expect(await redis().strlen(key)).toBeLessThanOrEqual(body.length + 200);
    // A plain string of the same bytes under a key of the same length: what Redis spends on the body alone.
    const plain = `${key.slice(0, -1)}~`;
    await redis().set(plain, body, 'PX', 60_000);
    const [entryBytes, plainBytes] = await Promise.all([key, plain].map((k) => redis().memory('USAGE', k, 'SAMPLES', 0)));
    expect(Number(entryBytes)).toBeLessThanOrEqual(Number(plainBytes) + 200);
  });

  it('with tags, is still one key, beside one record per tag and shard that all its entries share', async () => {
    await request(app.url).get('/tagged/1').expect(200);
    expect(await keys('/tagged/1')).toHaveLength(1);
    const store = RedisCache.of(kit).store;
    const { space } = store.target('h', '/tagged/1');
    expect(await redis().exists(store.tagRecord(space, 't1'), store.tagRecord(space, 't2'))).toBe(2);
  });

  it('of a URL that varies is a small head record plus one key per variant', async () => {
    for (const lang of ['en', 'fr', 'en']) await request(app.url).get('/lang/1').set('accept-language', lang).expect(200);
    const stored = await keys('/lang/1');
    expect(stored).toHaveLength(3);
    const lengths = await Promise.all(stored.map((k) => redis().strlen(k)));
    const [head, ...variants] = [...lengths].sort((a, b) => a - b);
    expect(head).toBeLessThan(100);
    for (const v of variants) expect(v).toBeLessThanOrEqual(body.length + 200);
  });
});
