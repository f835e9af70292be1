import { createLockManager, createRedisKit, type RedisKit } from '@rediskit/core';
import { startRedis, uniquePrefix } from '@rediskit/testing';

// Measurements quoted in docs and reports, not a test (times are never asserted).
// Run from the repository root:
//   npx esbuild integration-tests/lock/__fixtures__/measure.ts --bundle --platform=node --packages=external \
//     --alias:@rediskit/core=./packages/core/src/index.ts --alias:@rediskit/testing=./packages/testing/src/index.ts \
//     --outfile=node_modules/.cache/lock-measure.cjs --log-level=warning && node node_modules/.cache/lock-measure.cjs

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]!;

async function commandCalls(kit: RedisKit): Promise<Record<string, number>> {
  const info = (await kit.redis.info('commandstats')) as string;
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/cmdstat_([a-z_|]+):calls=(\d+)/g)) out[m[1]!] = Number(m[2]);
  return out;
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const kit = createRedisKit({ url: redis.url, prefix: uniquePrefix('measure'), logger: false, operationTimeout: 2000 });
  await kit.ready();
  const locks = createLockManager(kit, { ttl: 10_000 });
  const rounds = 5;
  const perRound = 400;
  const lockTimes: number[] = [];
  const rawTimes: number[] = [];
  // Warm up (script load, JIT).
  for (let i = 0; i < 200; i++) await (await locks.tryAcquire('warm'))!.release();
  for (let round = 0; round < rounds; round++) {
    // Alternate A and B so machine noise hits both alike.
    for (let i = 0; i < perRound; i++) {
      const t0 = performance.now();
      const lock = (await locks.tryAcquire(`r:${i % 50}`))!;
      await lock.release();
      lockTimes.push(performance.now() - t0);
      const key = kit.keys.key('raw', i % 50);
      const t1 = performance.now();
      await kit.redis.set(key, 'x', 'PX', 10_000, 'NX');
      await kit.redis.del(key);
      rawTimes.push(performance.now() - t1);
    }
  }
  const before = await commandCalls(kit);
  const cycles = 100;
  for (let i = 0; i < cycles; i++) await (await locks.tryAcquire('counted'))!.release();
  const after = await commandCalls(kit);
  const perCycle = Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, (v - (before[k] ?? 0)) / cycles] as const)
      .filter(([k, v]) => v > 0 && k !== 'info'),
  );
  const held = (await locks.tryAcquire('sized'))!;
  const lockKey = kit.keys.entity('lock', 'sized').key();
  const fenceKey = kit.keys.entity('lock', 'sized').key('fence');
  const lockBytes = await kit.redis.memory('USAGE', lockKey);
  const fenceBytes = await kit.redis.memory('USAGE', fenceKey);
  await held.release();

  // Contention: 20 in-process holders on 4 connections, 10 short sections each.
  const kits = await Promise.all(
    [0, 1, 2, 3].map(async () => {
      const k = createRedisKit({ url: redis.url, prefix: kit.keys.prefix, logger: false, operationTimeout: 2000 });
      await k.ready();
      return k;
    }),
  );
  let attempts = 0;
  let acquired = 0;
  for (const k of kits) {
    k.events.on('lock:acquired', (e) => {
      attempts += e.attempts;
      acquired++;
    });
  }
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 20 }, async (_, w) => {
      const m = createLockManager(kits[w % 4]!, { ttl: 5000, timeout: 60_000 });
      for (let i = 0; i < 10; i++) await m.using('hot', () => new Promise((r) => setTimeout(r, 2)));
    }),
  );
  const contendedMs = performance.now() - t0;

  console.log(
    JSON.stringify(
      {
        uncontendedCycle: {
          samples: lockTimes.length,
          lockMedianMs: +median(lockTimes).toFixed(3),
          lockP99Ms: +p99(lockTimes).toFixed(3),
          rawSetNxDelMedianMs: +median(rawTimes).toFixed(3),
          ratio: +(median(lockTimes) / median(rawTimes)).toFixed(2),
        },
        redisCommandsPerAcquireRelease: perCycle,
        memoryBytes: { lockKey: lockBytes, fenceKey: fenceBytes },
        contended: {
          sections: acquired,
          wallMs: Math.round(contendedMs),
          attemptsPerAcquire: +(attempts / acquired).toFixed(2),
        },
      },
      null,
      2,
    ),
  );
  await Promise.all([kit, ...kits].map((k) => k.close()));
  await redis.stop();
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
