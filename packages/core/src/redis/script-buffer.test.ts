import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import { createRedisKit, type RedisKit } from './redis-kit';
import { defineScript } from './script';

let kit: RedisKit;
beforeAll(async () => {
  kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('script-buffer'), logger: false });
  await kit.ready();
});
afterAll(() => kit.close());

it('runBuffer returns bulk strings as Buffers, byte for byte, beside integers', async () => {
  const echo = defineScript({
    name: 'testEchoBuffer',
    numberOfKeys: 1,
    lua: "redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000) return { redis.call('GET', KEYS[1]), 7 }",
  });
  const bytes = randomBytes(70_000);
  const [value, n] = await echo.runBuffer<[Buffer, number]>(kit, [kit.keys.key('b')], [bytes]);
  expect(Buffer.isBuffer(value)).toBe(true);
  expect(value.equals(bytes)).toBe(true);
  expect(n).toBe(7);
  // The string variant of the same script still decodes as before.
  const [text] = (await echo.run(kit, [kit.keys.key('s')], ['hello'])) as [string, number];
  expect(text).toBe('hello');
});
