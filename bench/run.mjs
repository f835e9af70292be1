#!/usr/bin/env node
// `npm run bench [-- <scenario|group>...] [--rounds N] [--duration S] [--warmup S]`
// Installs bench's own dependencies when missing (npm ci --prefix bench),
// starts one redis-server, runs the scenarios and rewrites docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const rootDir = join(benchDir, '..');

function ensureDependencies() {
  const marker = join(benchDir, 'node_modules/.package-lock.json');
  const lock = join(benchDir, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs + 1000 >= statSync(lock).mtimeMs) return;
  console.log('[bench] installing bench dependencies (npm ci --prefix bench)');
  const r = spawnSync('npm', ['ci', '--prefix', benchDir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('[bench] npm ci --prefix bench failed');
    process.exit(r.status ?? 1);
  }
}

function ensureBuilt() {
  const missing = ['core', 'express', 'nestjs'].filter((p) => !existsSync(join(rootDir, 'packages', p, 'dist/index.js')));
  if (missing.length) {
    console.error(`[bench] packages not built (${missing.join(', ')}): run \`npm run build\` at the root, or use \`npm run bench\` which builds first`);
    process.exit(1);
  }
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    list: { type: 'boolean' },
    'report-only': { type: 'boolean' },
    'no-docs': { type: 'boolean' },
  },
});

ensureDependencies();
ensureBuilt();

const { allScenarios } = await import('./scenarios/index.mjs');
const { runBench } = await import('./lib/bench.mjs');

if (opts.list) {
  for (const s of allScenarios) console.log(`${s.id.padEnd(22)} ${s.title}`);
  process.exit(0);
}

if (opts['report-only']) {
  // Re-renders docs/benchmarks.md and the SVGs from the stored results, with the current analysis texts.
  const { readdirSync, readFileSync, writeFileSync } = await import('node:fs');
  const { writeDocs } = await import('./lib/report.mjs');
  const { INTRO, ORDER } = await import('./lib/intro.mjs');
  const dir = join(rootDir, 'docs', 'benchmarks');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const result = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const scenario = allScenarios.find((s) => s.id === result.id);
    if (scenario?.analysis) result.analysis = scenario.analysis;
    writeFileSync(join(dir, f), JSON.stringify(result, null, 1));
  }
  writeDocs(join(rootDir, 'docs'), ORDER, INTRO);
  process.exit(0);
}

const wanted = positionals.length ? positionals : ['all'];
const selected = allScenarios.filter((s) => wanted.some((w) => w === 'all' || s.id === w || s.id.startsWith(`${w}-`) || s.group === w));
const unknown = wanted.filter((w) => w !== 'all' && !allScenarios.some((s) => s.id === w || s.id.startsWith(`${w}-`) || s.group === w));
if (unknown.length || !selected.length) {
  console.error(`[bench] unknown scenario ${unknown.join(', ')}; known: ${allScenarios.map((s) => s.id).join(', ')}`);
  process.exit(2);
}

const command = `npm run bench${positionals.length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
mkdirSync(join(benchDir, 'results'), { recursive: true });
try {
  const results = await runBench(selected, {
    rounds: Number(opts.rounds ?? 5),
    duration: Number(opts.duration ?? 2),
    warmup: Number(opts.warmup ?? 0.5),
    command,
    docsDir: opts['no-docs'] ? undefined : join(rootDir, 'docs'),
    rawDir: join(benchDir, 'results'),
    log: (m) => console.log(m),
  });
  const missed = results.flatMap((r) => (r.targetResults ?? []).filter((t) => !t.met).map((t) => `${r.id}: ${t.label}`));
  console.log(`\n[bench] done: ${results.length} scenario(s); targets missed: ${missed.length ? missed.join('; ') : 'none'}`);
  console.log(`[bench] machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  process.exit(0);
} catch (e) {
  console.error(`[bench] failed: ${e?.stack ?? e}`);
  process.exit(1);
}
