import { createLockManager, createRedisKit } from '@rediskit/core';

// Fixture for workers.test.ts: holds a lock inside using() (so it is extended
// every third of its ttl) and never finishes, until the test kills the process.
const input = JSON.parse(process.argv[2]!) as { url: string; prefix: string; resource: string; ttl: number };
const kit = createRedisKit({ url: input.url, prefix: input.prefix, logger: false, operationTimeout: 5000 });
void (async () => {
  await kit.ready(30_000);
  await createLockManager(kit).using(input.resource, { ttl: input.ttl }, (_signal, lock) => {
    process.send!({ fence: lock.fence, token: lock.token });
    return new Promise(() => {});
  });
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
