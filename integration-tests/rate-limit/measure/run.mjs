#!/usr/bin/env node
// Runs measure.ts (memory per key, round trips, sliding-window error) from
// source: bundles it with esbuild like the test harness does, then runs it.
//   node integration-tests/rate-limit/measure/run.mjs
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const outdir = join(root, 'node_modules', '.cache');
mkdirSync(outdir, { recursive: true });
const outfile = join(outdir, 'rediskit-rate-limit-measure.cjs');
await build({
  entryPoints: [fileURLToPath(new URL('./measure.ts', import.meta.url))],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile,
  logLevel: 'silent',
  packages: 'external',
  alias: Object.fromEntries(['core', 'testing'].map((p) => [`@rediskit/${p}`, join(root, 'packages', p, 'src', 'index.ts')])),
});
const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
