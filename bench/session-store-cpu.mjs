// CPU per session read of the express-session stores alone, without HTTP or
// express-session: `get`, then `touch` with the cookie moved on (what
// express-session calls for an unchanged session), 32 reads in flight, on 100
// stored sessions. process.cpuUsage() of this process, which also runs the
// stores' Redis clients; median of the rounds, stores alternating.
//
//   node bench/session-store-cpu.mjs                  # 7 rounds of 30,000 reads per store
//   READS=100000 ROUNDS=5 node bench/session-store-cpu.mjs
//
// Needs the packages built (`npm run build`) and bench's dependencies installed.
import { startRedisServer } from './lib/redis.mjs';

const READS = Number(process.env.READS ?? 30_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const IN_FLIGHT = 32;
const MAX_AGE = 3_600_000;

const redis = await startRedisServer();
const closers = [];
try {
  const { default: session } = await import('express-session');
  const { createRedisKit } = await import('@rediskit/core');
  const { RedisSessionStore } = await import('@rediskit/express');
  const { RedisStore } = await import('connect-redis');
  const { createClient } = await import('redis');

  const kit = createRedisKit({ url: redis.url, prefix: 'bench', logger: false, operationTimeout: 2000 });
  await kit.ready();
  closers.push(() => kit.close());
  const client = createClient({ url: redis.url });
  client.on('error', () => {});
  await client.connect();
  closers.push(() => client.quit());

  const stores = {
    rediskit: new RedisSessionStore(kit),
    'connect-redis': new RedisStore({ client, prefix: 'bench:sess:' }),
    memorystore: new session.MemoryStore(),
  };
  const ids = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}-abcdefghijklmnopqrstuvwxyz01`);
  const data = () => ({ cookie: { originalMaxAge: MAX_AGE, expires: new Date(Date.now() + MAX_AGE), httpOnly: true, path: '/' }, userId: 'user-1234abcd' });
  const call = (fn) => new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
  for (const store of Object.values(stores)) for (const id of ids) await call((done) => store.set(id, data(), done));

  const read = async (store, id) => {
    const s = await call((done) => store.get(id, done));
    if (!s) throw new Error(`no session ${id}`);
    s.cookie.expires = new Date(Date.now() + MAX_AGE); // express-session's req.session.touch()
    await call((done) => store.touch(id, s, done));
  };
  const run = async (store, n) => {
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < n) await read(store, ids[next++ % ids.length]);
    }));
  };
  const samples = Object.fromEntries(Object.keys(stores).map((k) => [k, []]));
  const entries = Object.entries(stores);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, store] of [...entries.slice(round % entries.length), ...entries.slice(0, round % entries.length)]) {
      await run(store, 2000);
      const before = process.cpuUsage();
      await run(store, READS);
      const used = process.cpuUsage(before);
      samples[name].push({ total: (used.user + used.system) / READS, system: used.system / READS });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`store CPU per read (get + touch), median of ${ROUNDS} rounds of ${READS} reads, ${IN_FLIGHT} in flight:`);
  for (const [name, xs] of Object.entries(samples)) {
    console.log(`  ${name.padEnd(14)} ${median(xs.map((x) => x.total)).toFixed(1).padStart(5)} µs  (system ${median(xs.map((x) => x.system)).toFixed(1)} µs)`);
  }
} finally {
  for (const close of closers) await close().catch(() => {});
  await redis.stop();
}
