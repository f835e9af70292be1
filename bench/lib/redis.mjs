// The one redis-server every contender of a run shares, and the admin
// connection the harness measures it with (commandstats, MONITOR, memory).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { track } from './procs.mjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server with persistence off on a free loopback port. The
 * process is tracked, so it is killed when the harness exits or fails.
 */
export async function startRedisServer({ binary = process.env.REDISKIT_REDIS_SERVER || 'redis-server' } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rediskit-bench-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--maxmemory-policy', 'noeviction', '--protected-mode', 'no', '--loglevel', 'warning'];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const untrack = track(child, `redis-server :${port}`);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const spawnError = new Promise((_, reject) => child.once('error', (e) => reject(new Error(`cannot start ${binary}: ${e.message}`))));
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    probe.on('error', () => {});
    try {
      await Promise.race([probe.connect().then(() => probe.ping()), spawnError]);
      probe.disconnect();
      break;
    } catch (e) {
      probe.disconnect();
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start: ${e.message}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    port,
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      untrack();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Parses the `# Commandstats` section of INFO into `{ get: 123, evalsha: 4 }`. */
export function parseCommandStats(info) {
  const out = {};
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** after - before, per command, dropping commands that did not move and those in `ignore`. */
export function diffCommandStats(before, after, ignore = []) {
  const out = {};
  for (const [cmd, n] of Object.entries(after)) {
    if (ignore.includes(cmd)) continue;
    const d = n - (before[cmd] ?? 0);
    if (d > 0) out[cmd] = d;
  }
  return out;
}

/** Parses `INFO memory`'s `used_memory:123`. */
export function parseInfoField(info, field) {
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return m ? m[1].trim() : undefined;
}

// Commands the harness itself sends on the admin connection; never charged to a contender.
export const ADMIN_COMMANDS = ['info', 'flushall', 'flushdb', 'monitor', 'memory', 'scan', 'dbsize', 'client', 'config', 'ping', 'select', 'script'];

export class Admin {
  constructor(url) {
    this.url = url;
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, connectionName: 'bench-admin' });
  }

  async commandStats() {
    return parseCommandStats(await this.redis.info('commandstats'));
  }

  async flush() {
    await this.redis.flushall('SYNC');
  }

  /** redis-server's CPU time so far (user + system, µs), from INFO cpu. */
  async cpuMicros() {
    const info = await this.redis.info('cpu');
    return (Number(parseInfoField(info, 'used_cpu_user')) + Number(parseInfoField(info, 'used_cpu_sys'))) * 1e6;
  }

  async usedMemory() {
    return Number(parseInfoField(await this.redis.info('memory'), 'used_memory'));
  }

  async version() {
    return parseInfoField(await this.redis.info('server'), 'redis_version');
  }

  /** Sum of MEMORY USAGE (SAMPLES 0: exact for aggregates) over every key, or over a sample scaled to DBSIZE. */
  async keyMemory({ maxKeys = 25_000 } = {}) {
    const total = await this.redis.dbsize();
    const keys = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0' && keys.length < maxKeys);
    let sum = 0;
    const sampleKinds = new Map();
    for (let i = 0; i < keys.length; i += 500) {
      const pipe = this.redis.pipeline();
      for (const k of keys.slice(i, i + 500)) pipe.memory('USAGE', k, 'SAMPLES', 0);
      const res = await pipe.exec();
      res.forEach(([err, bytes], j) => {
        if (err || bytes == null) return;
        sum += bytes;
        const shape = keys[i + j].replace(/[0-9a-f]{8,}|\d+/gi, '#');
        const k = sampleKinds.get(shape) ?? { n: 0, bytes: 0 };
        k.n++;
        k.bytes += bytes;
        sampleKinds.set(shape, k);
      });
    }
    const scale = keys.length ? total / keys.length : 0;
    return {
      keys: total,
      bytes: Math.round(sum * scale),
      shapes: [...sampleKinds.entries()].sort((a, b) => b[1].n - a[1].n).slice(0, 6)
        .map(([shape, k]) => ({ shape, keys: Math.round(k.n * scale), avgBytes: Math.round(k.bytes / k.n) })),
    };
  }

  /**
   * Runs `fn` while MONITOR watches and returns the commands seen, split into
   * round trips (sent by a client) and commands run inside scripts.
   */
  async monitor(fn) {
    const ownAddr = (await this.redis.client('INFO')).match(/addr=(\S+)/)?.[1];
    const mon = await this.redis.monitor();
    const topLevel = {};
    const inScript = {};
    mon.on('monitor', (_time, args, source) => {
      if (source === ownAddr) return;
      const cmd = String(args[0]).toLowerCase();
      if (source === 'lua') inScript[cmd] = (inScript[cmd] ?? 0) + 1;
      else topLevel[cmd] = (topLevel[cmd] ?? 0) + 1;
    });
    try {
      await fn();
      // MONITOR lines trail the replies a little.
      await new Promise((r) => setTimeout(r, 150));
    } finally {
      mon.disconnect();
    }
    return { topLevel, inScript };
  }

  async close() {
    this.redis.disconnect();
  }
}
