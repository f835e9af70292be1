import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { structures, type RedisKit } from '@rediskit/core';
import { sharedKit } from './helpers';

// Memory per structure, as `MEMORY USAGE <key> SAMPLES 0` reports it (all
// elements counted), against the bounds docs/structures.md states. Set
// REDISKIT_PRINT_MEMORY=1 to print the measured bytes.
describe('memory per structure (MEMORY USAGE)', () => {
  let kit: RedisKit;
  const measured: Record<string, number> = {};
  beforeAll(async () => {
    kit = await sharedKit('memory');
  });
  afterAll(async () => {
    if (process.env.REDISKIT_PRINT_MEMORY === '1') console.log(JSON.stringify(measured, null, 2));
    await kit.close();
  });

  const usage = async (name: string, key: string): Promise<number> => {
    const bytes = Number(await kit.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    measured[name] = bytes;
    return bytes;
  };

  it('counter: one small string', async () => {
    const c = structures(kit).counter({ name: 'views', ttl: 86_400_000 });
    await c.incr('/pricing', 123_456);
    expect(await usage('counter', c.key('/pricing'))).toBeLessThanOrEqual(100);
  });

  it('windowed counter: bounded by its buckets, whatever the traffic', async () => {
    for (const buckets of [60, 120, 1000]) {
      const w = structures(kit).windowedCounter({ name: `w${buckets}`, window: buckets * 1000, buckets });
      // Fill every bucket of the window with a 5-digit count, as heavy traffic would.
      const now = Math.floor((await kit.time()) / 1000);
      const fields: string[] = [];
      for (let b = now - buckets; b <= now; b++) fields.push(String(b), '54321');
      await kit.redis.hset(w.key('page'), ...fields);
      await w.incr('page');
      const bytes = await usage(`windowed-counter ${buckets} buckets`, w.key('page'));
      // Up to 126 fields a hash stays a compact listpack; beyond, a hash table.
      expect(bytes).toBeLessThanOrEqual(buckets <= 126 ? 24 * buckets + 200 : 80 * buckets + 200);
    }
  });

  it('unique counter: sparse while small, 12 KB dense at most', async () => {
    const u = structures(kit).uniqueCounter({ name: 'u', ttl: 60_000 });
    await u.add('small', Array.from({ length: 100 }, (_, i) => `v${i}`));
    expect(await usage('unique-counter 100 members', u.key('small'))).toBeLessThanOrEqual(1000);
    for (let b = 0; b < 20; b++) await u.add('large', Array.from({ length: 5000 }, (_, i) => `v${b}-${i}`));
    expect(await usage('unique-counter 100k members', u.key('large'))).toBeLessThanOrEqual(12_304 + 2_500);
  });

  it('bitmap flags: one bit per possible id up to the highest set', async () => {
    const f = structures(kit).flags({ name: 'f', ttl: 60_000 });
    await f.setFlag('dau', 1_000_000);
    const bytes = await usage('flags highest id 1M', f.key('dau'));
    expect(bytes).toBeGreaterThanOrEqual(125_001);
    expect(bytes).toBeLessThanOrEqual(125_001 + 8_000);
  });

  it('leaderboard: compact up to 128 members, then about a hundred bytes a member', async () => {
    for (const n of [100, 10_000]) {
      const board = structures(kit).leaderboard({ name: `b${n}` });
      for (let i = 0; i < n; i += 1000) {
        const args: Array<string | number> = [];
        for (let j = i; j < Math.min(n, i + 1000); j++) args.push(-((j * 37) % 5000), `player-${j}`);
        await kit.redis.zadd(board.key(), ...args);
      }
      await board.increment('player-0', 1);
      const bytes = await usage(`leaderboard ${n} members`, board.key());
      expect(bytes / n).toBeLessThanOrEqual(n <= 128 ? 30 : 120);
    }
  });
});
