#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone with nothing run
// before: installs npm dependencies when missing or stale, installs
// redis-server through apt when running as root without one (otherwise
// @rediskit/testing falls back to redis-memory-server), then (--build)
// generates the Lua module and builds the packages.
// Uses only Node built-ins: it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.log(`[ensure-env] ${m}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`[ensure-env] ${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
    process.exit(r.status ?? 1);
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

// 1. npm dependencies
const marker = join(root, 'node_modules/.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000)) {
  log('installing npm dependencies');
  run('npm', [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund']);
}

// 2. redis-server
const hasRedis = process.env.REDISKIT_REDIS_SERVER || onPath('redis-server') || existsSync('/usr/bin/redis-server');
if (!hasRedis) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && onPath('apt-get')) {
    log('installing redis-server with apt-get');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'redis-server', 'redis-tools', 'redis-sentinel'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } else {
    log('no redis-server found and cannot apt-get install it; @rediskit/testing will use redis-memory-server');
  }
}

// Builds each workspace whose sources are newer than its build output (or
// whose dependency was just rebuilt), in dependency order.
function newest(dir) {
  let max = 0;
  if (!existsSync(dir)) return max;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === '.tsbuild') continue;
    const full = join(dir, name);
    const st = statSync(full);
    max = Math.max(max, st.isDirectory() ? newest(full) : st.mtimeMs);
  }
  return max;
}
function buildStale() {
  const order = [
    ['packages/core', 'dist/index.js'],
    ['packages/testing', 'dist/index.js'],
    ['packages/express', 'dist/index.js'],
    ['packages/koa', 'dist/index.js'],
    ['packages/nestjs', 'dist/index.js'],
    ['examples', 'dist/main.js'],
  ];
  let rebuilt = false;
  for (const [ws, output] of order) {
    const out = join(root, ws, output);
    const sourcesAt = Math.max(newest(join(root, ws, 'src')), statSync(join(root, ws, 'package.json')).mtimeMs);
    if (!rebuilt && existsSync(out) && statSync(out).mtimeMs > sourcesAt) continue;
    log(`building ${ws}`);
    run('npm', ['run', 'build', '--silent', '-w', ws]);
    rebuilt = true;
  }
}

// 3. build
if (process.argv.includes('--build')) {
  run(process.execPath, [join(root, 'scripts/gen-lua.mjs'), '--quiet']);
  if (process.env.REDISKIT_SKIP_BUILD !== '1') buildStale();
}
try {
  const v = execFileSync(process.env.REDISKIT_REDIS_SERVER || 'redis-server', ['--version'], { encoding: 'utf8' });
  log(v.trim().split(' ').slice(0, 3).join(' '));
} catch {}
