import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Imports every built package the way users do, from a .cjs and an .mjs file,
// with plain Node (no Jest module mapping): proves the exports map, both
// formats and the declaration files exist. `npm test` builds first.
const root = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES: Record<string, string[]> = {
  '@rediskit/core': [
    'createRedisKit',
    'RedisKit',
    'RedisKitError',
    'KeySpace',
    'defineScript',
    'LUA',
    'captureResponse',
    'createCache',
    'createRateLimiter',
    'RateLimiter',
    'createIdempotency',
    'createLockManager',
    'createSessionEngine',
    'structures',
    'createCounter',
  ],
  '@rediskit/testing': ['startRedis', 'startCluster', 'startSentinel', 'uniquePrefix'],
  '@rediskit/express': ['attachRedisKit', 'getRedisKit', 'cache', 'purgeTags', 'rateLimit', 'idempotency', 'RedisSessionStore'],
  '@rediskit/koa': ['attachRedisKit', 'getRedisKit', 'cache', 'purgeTags', 'rateLimit', 'idempotency', 'RedisSessionStore'],
  '@rediskit/nestjs': [
    'RedisKitModule',
    'InjectRedisKit',
    'REDISKIT',
    'Cacheable',
    'CacheInterceptor',
    'RateLimit',
    'RateLimitGuard',
    'Idempotent',
    'LockService',
    'StructuresService',
    'RedisSessionService',
  ],
};

describe('built packages', () => {
  const dir = mkdtempSync(join(root, 'node_modules', '.packaging-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, expected] of Object.entries(PACKAGES)) {
    const folder = join(root, 'packages', name.split('/')[1]!);
    it(`${name} has CJS, ESM and type declarations`, () => {
      for (const file of ['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts']) {
        expect(existsSync(join(folder, file)) ? file : `missing ${file} (run npm run build)`).toBe(file);
      }
    });

    it(`${name} loads with require() from a .cjs file`, () => {
      const file = join(dir, `${name.replace('/', '_')}.cjs`);
      writeFileSync(file, `const m = require(${JSON.stringify(name)}); console.log(JSON.stringify(Object.keys(m)));`);
      const keys = JSON.parse(execFileSync(process.execPath, [file], { cwd: root, encoding: 'utf8' })) as string[];
      expect(keys).toEqual(expect.arrayContaining(expected));
    });

    it(`${name} loads with import from an .mjs file`, () => {
      const file = join(dir, `${name.replace('/', '_')}.mjs`);
      writeFileSync(file, `import * as m from ${JSON.stringify(name)}; console.log(JSON.stringify(Object.keys(m)));`);
      const keys = JSON.parse(execFileSync(process.execPath, [file], { cwd: root, encoding: 'utf8' })) as string[];
      expect(keys).toEqual(expect.arrayContaining(expected));
    });
  }
});
