import { createRedisKit, createStreams } from '@rediskit/core';

// A consumer in its own process, for tests that kill it. Reports each entry it
// gets to the parent; in mode 'hang' it never finishes a handler, in mode
// 'work' it records the entry in a set and acknowledges it.
const input = JSON.parse(process.argv[2]!) as {
  url: string;
  prefix: string;
  stream: string;
  group: string;
  mode: 'hang' | 'work';
  minIdle: number;
  doneKey?: string;
};
const kit = createRedisKit({ url: input.url, prefix: input.prefix, logger: false });
const stream = createStreams(kit).stream<unknown>(input.stream);
stream.consume(
  input.group,
  async (msg) => {
    process.send?.({ id: msg.id, deliveries: msg.deliveries, consumer: msg.consumer });
    if (input.mode === 'hang') return new Promise(() => {});
    await kit.exec((r) => r.sadd(input.doneKey!, msg.id), { timeout: 2000 });
  },
  { minIdle: input.minIdle, concurrency: 4, block: 500 },
);
process.send?.({ started: true });
