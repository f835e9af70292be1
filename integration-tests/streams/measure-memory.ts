// Measures Redis memory per structure for docs/streams.md (not a test):
//   npx esbuild integration-tests/streams/measure-memory.ts --bundle --platform=node --format=esm \
//     --packages=external --alias:@rediskit/core=./packages/core/src/index.ts \
//     --alias:@rediskit/testing=./packages/testing/src/index.ts --outfile=node_modules/.cache/measure-memory.mjs \
//     && node node_modules/.cache/measure-memory.mjs
import { createRedisKit, createStreams, createTasks } from '@rediskit/core';
import { startRedis } from '@rediskit/testing';

const N = 10_000;
const event = { type: 'order-placed', orderId: 'o-1234567', item: 'book', cents: 1250 };

async function main(): Promise<void> {
  const redis = await startRedis();
  const kit = createRedisKit({ url: redis.url, prefix: 'm', logger: false, operationTimeout: 5000 });
  await kit.ready();
  const usage = async (key: string) => Number((await kit.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  const used = async () => Number(/used_memory:(\d+)/.exec(await kit.redis.info('memory'))![1]);
  const rows: Array<[string, number]> = [];

  const s = createStreams(kit).stream<typeof event>('orders');
  let t0 = performance.now();
  for (let i = 0; i < N; i++) await s.publish({ ...event, orderId: `o-${1_000_000 + i}` });
  const publishMs = performance.now() - t0;
  rows.push([`stream entry (event of ${JSON.stringify(event).length} bytes of JSON)`, (await usage(s.keys.stream)) / N]);

  await kit.redis.xgroup('CREATE', s.keys.stream, 'g', '0');
  const before = await used();
  await kit.redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', N, 'STREAMS', s.keys.stream, '>');
  rows.push(['pending entry (PEL, delivered not acked; used_memory delta)', ((await used()) - before) / N]);

  const d = createStreams(kit).stream<typeof event>('dedupe');
  const m0 = await used();
  for (let i = 0; i < N; i++) await d.publish(event, { id: `order-${1_000_000 + i}` });
  const dedupeTotal = (await used()) - m0;
  const streamPart = await usage(d.keys.stream);
  rows.push(['producer dedupe id (a key with TTL, id of 12 chars)', (dedupeTotal - streamPart) / N]);

  const q = createTasks(kit).queue<typeof event>('reminders');
  for (let i = 0; i < N; i++) await q.schedule({ ...event, orderId: `o-${1_000_000 + i}` }, { delay: 3_600_000 });
  rows.push([
    `scheduled task (random UUID id, same payload)`,
    ((await usage(q.keys.scheduled)) + (await usage(q.keys.data))) / N,
  ]);
  const q2 = createTasks(kit).queue<typeof event>('reminders-ids');
  for (let i = 0; i < N; i++) await q2.schedule({ ...event, orderId: `o-${1_000_000 + i}` }, { delay: 3_600_000, id: `reminder:${1_000_000 + i}` });
  rows.push([`scheduled task (id "reminder:<7 digits>")`, ((await usage(q2.keys.scheduled)) + (await usage(q2.keys.data))) / N]);

  const dq = createTasks(kit).queue<number>('done');
  for (let i = 0; i < N; i++) await dq.schedule(i, { id: `job:${1_000_000 + i}` });
  const w = dq.process(() => {}, { concurrency: 50 });
  while ((await dq.stats()).scheduled + (await dq.stats()).active > 0) await new Promise((r) => setTimeout(r, 100));
  await w.close();
  rows.push(['completed task id kept for the dedupe window', (await usage(dq.keys.done)) / N]);

  for (const [what, bytes] of rows) console.log(`${what}: ${Math.round(bytes)} bytes`);

  // Throughput, one process, sequential producer (one round trip per call); indicative only on a shared machine.
  const t = createStreams(kit).stream<typeof event>('throughput');
  for (let i = 0; i < N; i++) await t.publish(event);
  let handled = 0;
  t0 = performance.now();
  const c = t.consume('g', () => {
    handled++;
  }, { concurrency: 16 });
  while (handled < N) await new Promise((r) => setTimeout(r, 20));
  const consumeMs = performance.now() - t0;
  await c.close();
  const tq = createTasks(kit).queue<number>('throughput');
  for (let i = 0; i < N; i++) await tq.schedule(i);
  let ran = 0;
  t0 = performance.now();
  const tw = tq.process(() => {
    ran++;
  }, { concurrency: 16 });
  while (ran < N) await new Promise((r) => setTimeout(r, 20));
  const taskMs = performance.now() - t0;
  await tw.close();
  console.log(`publish (sequential): ${Math.round(N / (publishMs / 1000))}/s`);
  console.log(`consume + ack (concurrency 16): ${Math.round(N / (consumeMs / 1000))}/s`);
  console.log(`task claim + run + complete (concurrency 16): ${Math.round(N / (taskMs / 1000))}/s`);
  await kit.close();
  await redis.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
