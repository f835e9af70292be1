import { createRedisKit, MemoryRateStore, RateLimiter, resolvePolicies, type RateLimitAlgorithm } from '@rediskit/core';
import { startRedis } from '@rediskit/testing';

// Numbers for docs/rate-limit.md, measured on a private Redis.

const DAY = 86_400_000;

async function main(): Promise<void> {
  const redis = await startRedis();
  const kit = createRedisKit({ url: redis.url, prefix: 'rk', logger: false });
  await kit.ready();
  const info = async () => {
    const text = (await kit.redis.info('commandstats')) as string;
    const calls: Record<string, number> = {};
    for (const m of text.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) calls[m[1]!] = Number(m[2]);
    return calls;
  };

  console.log(`Redis ${(((await kit.redis.info('server')) as string).match(/redis_version:(\S+)/) ?? [])[1]}\n`);
  console.log('## Memory per key (MEMORY USAGE, key for one IPv4 client on route "GET /api/items/:id")\n');
  console.log('| algorithm | state key | bytes |');
  console.log('|---|---|---|');
  const algorithms: RateLimitAlgorithm[] = ['fixed-window', 'sliding-window', 'token-bucket', 'gcra', 'concurrency'];
  for (const algorithm of algorithms) {
    const l = new RateLimiter(kit, {
      name: 'GET /api/items/:id',
      policies: [algorithm === 'concurrency' ? { name: 'default', algorithm, limit: 100 } : { name: 'default', algorithm, limit: 100, window: 60_000 }],
    });
    const d = await l.consume('203.0.113.7');
    const [key] = l.keysFor('203.0.113.7').state;
    const bytes = await kit.redis.memory('USAGE', key!, 'SAMPLES', '0');
    console.log(`| ${algorithm} | \`${key}\` | ${bytes} |`);
    if (algorithm === 'concurrency') {
      const more = [];
      for (let i = 0; i < 9; i++) more.push(await l.consume('203.0.113.7'));
      console.log(`| concurrency, 10 leases | same | ${await kit.redis.memory('USAGE', key!, 'SAMPLES', '0')} |`);
      for (const x of [d, ...more]) await l.release(x);
    }
  }
  const blocking = new RateLimiter(kit, { name: 'blocks', limit: 1, window: DAY, blockDuration: 60_000 });
  await blocking.consume('203.0.113.7');
  await blocking.consume('203.0.113.7');
  console.log(`| block key (blockDuration) | \`${blocking.keysFor('203.0.113.7').block[0]}\` | ${await kit.redis.memory('USAGE', blocking.keysFor('203.0.113.7').block[0]!, 'SAMPLES', '0')} |`);

  console.log('\n## Round trips and commands per decision (INFO commandstats deltas over 1000 decisions)\n');
  console.log('| policies on the route | round trips (EVALSHA) per decision | commands run inside the script per decision |');
  console.log('|---|---|---|');
  for (const count of [1, 2, 4]) {
    const all: RateLimitAlgorithm[] = ['fixed-window', 'sliding-window', 'token-bucket', 'gcra'];
    const l = new RateLimiter(kit, {
      name: `rt${count}`,
      policies: all.slice(0, count).map((algorithm, i) => ({ name: `p${i}`, algorithm, limit: 1_000_000, window: DAY })),
    });
    await l.consume('warm');
    const before = await info();
    for (let i = 0; i < 1000; i++) await l.consume(`c${i % 50}`);
    const after = await info();
    const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    const inner = Object.keys(after)
      .filter((k) => !['evalsha', 'eval', 'info'].includes(k))
      .reduce((s, k) => s + delta(k), 0);
    console.log(`| ${count} | ${delta('evalsha') / 1000} | ${inner / 1000} |`);
  }
  await kit.close();
  await redis.stop();

  console.log('\n## Sliding window error against an exact sliding log\n');
  slidingError();
}

/** Replays synthetic traffic through the in-memory twin of the scripts and through an exact sliding log. */
function slidingError(): void {
  let seed = 12345;
  const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const W = 60_000;
  console.log('| limit | traffic (x limit) | requests | admitted vs exact log | worst window: sliding / fixed / exact (x limit) | worst tenth of a window: sliding / fixed / exact (x limit) |');
  console.log('|---|---|---|---|---|---|');
  for (const L of [10, 100, 1000]) {
    for (const load of [1.2, 2, 5]) {
      const windows = 200;
      const arrivals: number[] = [];
      let t = 1_700_000_000_000 + Math.floor(rand() * W);
      const end = t + windows * W;
      const mean = W / (L * load);
      while (t < end) {
        t += Math.max(1, Math.round(-Math.log(1 - rand()) * mean));
        arrivals.push(t);
      }
      const run = (algorithm: RateLimitAlgorithm) => {
        const store = new MemoryRateStore(10);
        const [p] = resolvePolicies('m', [{ algorithm, limit: L, window: W }]);
        const admitted: number[] = [];
        const decisions: boolean[] = [];
        for (const at of arrivals) {
          const r = store.consume(['k', 'kb'], ['consume', 1, '0', '', 1000, p!.code, p!.limit, p!.window, p!.burst, 0], at * 1000);
          decisions.push(r[1] === 1);
          if (r[1] === 1) admitted.push(at);
        }
        return { admitted, decisions };
      };
      const exact = (() => {
        const admitted: number[] = [];
        const decisions: boolean[] = [];
        let from = 0;
        for (const at of arrivals) {
          while (from < admitted.length && admitted[from]! <= at - W) from++;
          const ok = admitted.length - from + 1 <= L;
          decisions.push(ok);
          if (ok) admitted.push(at);
        }
        return { admitted, decisions };
      })();
      const worst = (admitted: number[], span: number) => {
        let best = 0;
        let from = 0;
        for (let i = 0; i < admitted.length; i++) {
          while (admitted[from]! <= admitted[i]! - span) from++;
          best = Math.max(best, i - from + 1);
        }
        return (best / L).toFixed(2);
      };
      const sliding = run('sliding-window');
      const fixed = run('fixed-window');
      console.log(
        `| ${L} | ${load} | ${arrivals.length} | ${(((sliding.admitted.length - exact.admitted.length) / exact.admitted.length) * 100).toFixed(2)} % | ${worst(sliding.admitted, W)} / ${worst(fixed.admitted, W)} / ${worst(exact.admitted, W)} | ${worst(sliding.admitted, W / 10)} / ${worst(fixed.admitted, W / 10)} / ${worst(exact.admitted, W / 10)} |`,
      );
    }
  }
  console.log('\n## A client that times its burst (limit 100 per 60 s)\n');
  console.log('| algorithm | admitted within 1 s of the burst | admitted within one window of it |');
  console.log('|---|---|---|');
  // The adversarial case: a client that knows the algorithm spends its whole
  // quota just before a window ends (for the fixed window, whose window starts
  // with its first request: one request, then the rest at the end), then
  // bursts again right after the boundary, then asks ten times faster than the limit.
  const L = 100;
  const start = 1_700_000_040_000;
  const boundary = start + W;
  for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket', 'gcra'] as const) {
    const burst = algorithm === 'fixed-window' ? [start, ...Array.from({ length: L - 1 }, (_, i) => boundary - 100 + i)] : Array.from({ length: L }, (_, i) => boundary - 100 + i);
    const again = Array.from({ length: L }, (_, i) => boundary + i);
    const arrivals = [...burst, ...again, ...Array.from({ length: 20 * L }, (_, i) => boundary + L + i * (W / (10 * L)))];
    const store = new MemoryRateStore(10);
    const [p] = resolvePolicies('m', [{ algorithm, limit: L, window: W }]);
    const admitted = arrivals.filter((at) => store.consume(['k', 'kb'], ['consume', 1, '0', '', 1000, p!.code, p!.limit, p!.window, p!.burst, 0], at * 1000)[1] === 1);
    const within = (span: number) => admitted.filter((at) => at >= boundary - 100 && at < boundary - 100 + span).length;
    console.log(`| ${algorithm} | ${within(1000)} | ${within(W)} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
