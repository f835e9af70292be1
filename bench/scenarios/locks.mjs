// Scenario 5: lock acquire + release throughput under contention from 4
// processes. Each process runs LOOPS concurrent loops; each loop takes one of
// RESOURCES locks at random, runs a short critical section, releases.
//
// Exclusion is checked outside Redis, so the referee costs no Redis command:
// the critical section creates a marker file with O_EXCL (fails if another
// holder's marker is there: a violation) and removes it before releasing.
import { closeSync, mkdirSync, openSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ioredis } from '../lib/apps.mjs';

const WORKERS = 4;
const LOOPS = 4;
const RESOURCES = 4;
const TTL = 5000;
// Every contender polls on the same schedule while a lock is held elsewhere.
const RETRY_MS = 5;
const JITTER_MS = 0;
const CRITICAL_MS = 1;

const refereeDir = join(process.env.BENCH_LOCK_DIR ?? (process.platform === 'linux' ? '/dev/shm' : tmpdir()), 'rediskit-bench-locks');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The critical section: mark, hold CRITICAL_MS, unmark. Returns false on an exclusion violation. */
async function critical(resource) {
  const marker = join(refereeDir, resource);
  let fd;
  try {
    fd = openSync(marker, 'wx');
  } catch (e) {
    if (e.code === 'EEXIST') {
      await sleep(CRITICAL_MS);
      return false;
    }
    throw e;
  }
  closeSync(fd);
  await sleep(CRITICAL_MS);
  unlinkSync(marker);
  return true;
}

/**
 * Wraps `{ lock(resource) -> release() }` into the worker protocol: `run({ durationMs, amount })`
 * answers ops, latencies (ms, acquire to released), violations and failures.
 */
function worker(impl, close) {
  mkdirSync(refereeDir, { recursive: true });
  return {
    info: { loops: LOOPS },
    async run({ durationMs, amount, loops = LOOPS }) {
      const until = performance.now() + durationMs;
      const latencies = [];
      let ops = 0;
      let violations = 0;
      let failures = 0;
      let attempts = 0;
      const start = performance.now();
      const loop = async () => {
        while (amount ? attempts++ < amount : performance.now() < until) {
          const resource = `r${Math.floor(Math.random() * RESOURCES)}`;
          const t0 = performance.now();
          try {
            const release = await impl.lock(resource);
            if (!(await critical(resource))) violations++;
            await release();
            ops++;
            latencies.push(performance.now() - t0);
          } catch (e) {
            failures++;
            if (failures === 1) process.stderr.write(`lock failure: ${e?.stack ?? e}\n`);
            await sleep(RETRY_MS);
          }
        }
      };
      await Promise.all(Array.from({ length: loops }, loop));
      return { ops, seconds: (performance.now() - start) / 1000, latencies, violations, failures };
    },
    close,
  };
}

const jitter = () => RETRY_MS + Math.random() * JITTER_MS;

export const contenders = {
  ceiling: {
    kind: 'ceiling',
    label: 'ceiling: no lock',
    note: 'The critical section without any lock: the most the loops can do. Its violations are expected and not counted.',
    packages: [],
    async start() {
      return worker({
        lock: async () => () => {},
      });
    },
  },
  floor: {
    kind: 'floor',
    label: 'floor: SET NX PX + compare-and-delete',
    packages: ['ioredis'],
    note: 'One `SET key token NX PX` per attempt, polling on the same schedule as the others, and one EVALSHA of a compare-and-delete script to release: the least a correct single-Redis lock needs.',
    async start({ redisUrl }) {
      const redis = await ioredis(redisUrl);
      redis.defineCommand('benchUnlock', { numberOfKeys: 1, lua: "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0" });
      return worker(
        {
          async lock(resource) {
            const key = `bench:floor:lock:${resource}`;
            const token = randomBytes(12).toString('base64url');
            while ((await redis.set(key, token, 'PX', TTL, 'NX')) !== 'OK') await sleep(jitter());
            return () => redis.benchUnlock(key, token);
          },
        },
        () => redis.quit(),
      );
    },
  },
  rediskit: {
    kind: 'rediskit',
    label: 'rediskit LockManager',
    packages: ['@rediskit/core'],
    async start({ redisUrl }) {
      const { createRedisKit, createLockManager } = await import('@rediskit/core');
      const kit = createRedisKit({ url: redisUrl, prefix: 'bench', logger: false, operationTimeout: 1000 });
      await kit.ready();
      const locks = createLockManager(kit, { ttl: TTL, timeout: 10_000, retry: { delay: RETRY_MS, maxDelay: RETRY_MS + JITTER_MS, jitter: 0 } });
      return worker(
        {
          async lock(resource) {
            const lock = await locks.acquire(resource);
            return () => lock.release();
          },
        },
        () => kit.close(),
      );
    },
  },
  redlock: {
    kind: 'peer',
    label: 'redlock (one Redis)',
    packages: ['redlock', 'ioredis'],
    note: 'redlock 5.0.0-beta.2, the ioredis-based rewrite (the `latest` tag, 4.2.0, is the older callback API); one Redis, so no quorum.',
    async start({ redisUrl }) {
      const { default: Redlock } = await import('redlock');
      const redis = await ioredis(redisUrl);
      const redlock = new Redlock([redis], { retryCount: 2000, retryDelay: RETRY_MS, retryJitter: JITTER_MS, automaticExtensionThreshold: 500 });
      redlock.on('error', () => {});
      return worker(
        {
          async lock(resource) {
            const lock = await redlock.acquire([`bench:redlock:${resource}`], TTL);
            return () => lock.release();
          },
        },
        () => redis.quit(),
      );
    },
  },
  'redis-semaphore': {
    kind: 'peer',
    label: 'redis-semaphore Mutex',
    packages: ['redis-semaphore', 'ioredis'],
    async start({ redisUrl }) {
      const { Mutex } = await import('redis-semaphore');
      const redis = await ioredis(redisUrl);
      return worker(
        {
          async lock(resource) {
            const mutex = new Mutex(redis, `bench:sem:${resource}`, { lockTimeout: TTL, acquireTimeout: 10_000, retryInterval: RETRY_MS, refreshInterval: 0 });
            await mutex.acquire();
            return () => mutex.release();
          },
        },
        () => redis.quit(),
      );
    },
  },
};

export const scenarios = [
  {
    id: 'locks',
    title: `Lock acquire + release, ${WORKERS} processes contending`,
    module: fileURLToPath(import.meta.url),
    kind: 'locks',
    unit: 'ops/s',
    workers: WORKERS,
    loadNote: `${WORKERS} processes x ${LOOPS} loops over ${RESOURCES} locks`,
    description:
      `${WORKERS} processes per contender, each running ${LOOPS} concurrent loops: take one of ${RESOURCES} locks at random (ttl ${TTL} ms), hold it ${CRITICAL_MS} ms, release. ` +
      `A waiter polls every ${RETRY_MS} ms in every contender (redis-semaphore has no jitter option, so none has jitter). Exclusion is checked outside Redis: the critical section creates a marker file with O_EXCL, so a second holder is caught without a Redis command. ` +
      'Latency: acquire (with waiting) to released. Round trips: one loop alone, no contention.',
    contenders: Object.entries(contenders).map(([id, c]) => ({ id, ...c })),
    targets: [
      { contender: 'rediskit', label: 'rediskit locks', vs: 'best-peer', ratio: 1, violations: 0 },
    ],
    // Markers a killed worker left behind would read as violations of the next contender.
    cleanup: () => {
      rmSync(refereeDir, { recursive: true, force: true });
      mkdirSync(refereeDir, { recursive: true });
    },
  },
];
