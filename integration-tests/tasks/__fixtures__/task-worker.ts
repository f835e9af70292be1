import { createRedisKit, createTasks } from '@rediskit/core';

// A task worker in its own process, for tests that kill it mid-run: each
// handler records its task id in a set after a short pause.
const input = JSON.parse(process.argv[2]!) as {
  url: string;
  prefix: string;
  queue: string;
  doneKey: string;
  concurrency: number;
  lease: number;
};
const kit = createRedisKit({ url: input.url, prefix: input.prefix, logger: false });
createTasks(kit)
  .queue<number>(input.queue)
  .process(
    async (task) => {
      await new Promise((r) => setTimeout(r, 5));
      await kit.exec((r) => r.sadd(input.doneKey, task.id), { timeout: 2000 });
    },
    { concurrency: input.concurrency, lease: input.lease, maxBlock: 200 },
  );
process.send?.({ started: true });
