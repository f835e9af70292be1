import { createLockManager, createRedisKit } from '@rediskit/core';

// Fixture for workers.test.ts: `times` read-modify-write increments of one
// counter, each inside the lock. Without mutual exclusion two workers read the
// same value and an increment is lost.
const input = JSON.parse(process.argv[2]!) as { url: string; prefix: string; times: number; index: number };
const kit = createRedisKit({ url: input.url, prefix: input.prefix, logger: false, operationTimeout: 5000 });
void (async () => {
  await kit.ready(30_000);
  const locks = createLockManager(kit, { ttl: 15_000, timeout: 120_000, retry: { delay: 5, maxDelay: 100 } });
  const counter = kit.keys.key('counter');
  const sections: Array<{ fence: number; read: number }> = [];
  for (let i = 0; i < input.times; i++) {
    const lock = await locks.acquire('counter');
    const read = Number((await kit.exec((r) => r.get(counter), { timeout: 5000 })) ?? 0);
    // Give every other worker a chance to run between the read and the write.
    await new Promise((r) => setTimeout(r, 1));
    await kit.exec((r) => r.set(counter, String(read + 1), 'PX', 600_000), { timeout: 5000 });
    sections.push({ fence: lock.fence, read });
    await lock.release();
  }
  await kit.close();
  process.send!({ index: input.index, sections }, () => process.exit(0));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
