import { createRedisKit, structures } from '@rediskit/core';

// Fixture for counter.test.ts: one process of the contention test. Increments
// the shared counter `times` times through the public API and reports every
// value it got back, then decrements a second counter `times` times.
const input = JSON.parse(process.argv[2]!) as { url: string; prefix: string; times: number; index: number };
const kit = createRedisKit({ url: input.url, prefix: input.prefix, logger: false, operationTimeout: 10_000 });
void (async () => {
  await kit.ready();
  const counter = structures(kit).counter({ name: 'contended', ttl: 600_000, failPolicy: 'closed' });
  const seen: number[] = [];
  // Several increments in flight at once per process, so the four processes
  // interleave at the command level, not just per process.
  for (let i = 0; i < input.times; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, input.times - i) }, () => counter.incr('hits')));
    for (const v of batch) seen.push(v!);
  }
  for (let i = 0; i < input.times; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, input.times - i) }, () => counter.decr('stock', 2)));
  }
  await kit.close();
  process.send!({ index: input.index, seen });
})();
