import { createRedisKit } from '@rediskit/core';

// Fixture for processes.test.ts: increments a counter `times` times.
const input = JSON.parse(process.argv[2]!) as { url: string; prefix: string; times: number; index: number };
const kit = createRedisKit({ url: input.url, prefix: input.prefix, logger: false });
void (async () => {
  await kit.ready();
  let last = 0;
  for (let i = 0; i < input.times; i++) last = await kit.exec((r) => r.incr(kit.keys.key('n')), { timeout: 2000 });
  await kit.close();
  process.send!({ index: input.index, last });
})();
