// One benchmark run: one redis-server, one load process, the selected
// scenarios in turn, results stored per scenario and the docs rewritten.
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateTargets, summarize } from './analyze.mjs';
import { Child, killTracked } from './procs.mjs';
import { Admin, startRedisServer } from './redis.mjs';
import { writeDocs } from './report.mjs';
import { runHttpScenario, runLockScenario } from './runner.mjs';
import { INTRO, ORDER } from './intro.mjs';

const LOAD = fileURLToPath(new URL('./load-process.mjs', import.meta.url));

export function machine() {
  const cpus = os.cpus();
  return `${cpus.length} x ${cpus[0]?.model?.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`;
}

/**
 * @param scenarios scenario objects (see runner.mjs)
 * @param opts `{ rounds, duration, warmup, command, docsDir?, rawDir?, engine?, log }`
 */
export async function runBench(scenarios, opts) {
  const log = opts.log ?? (() => {});
  const redis = await startRedisServer();
  const admin = new Admin(redis.url);
  const loader = new Child(LOAD, [], { label: 'load generator' });
  const results = [];
  try {
    const redisVersion = await admin.version();
    for (const scenario of scenarios) {
      log(`\n[bench] ${scenario.id}: ${scenario.title}`);
      const env = {
        redisUrl: redis.url,
        admin,
        loader,
        rounds: scenario.rounds ?? opts.rounds,
        duration: opts.duration,
        warmup: opts.warmup,
        engine: opts.engine ?? 'autocannon',
        calibrationRequests: opts.calibrationRequests,
        log,
      };
      const started = Date.now();
      const raw = scenario.kind === 'locks' ? await runLockScenario(scenario, env) : await runHttpScenario(scenario, env);
      const result = {
        ...raw,
        title: scenario.title,
        description: scenario.description,
        unit: scenario.unit,
        connections: scenario.connections,
        loadNote: scenario.loadNote,
        expectNoOrigin: scenario.expectNoOrigin,
        fill: scenario.fill ? { count: scenario.fill.count } : undefined,
        targets: scenario.targets,
        env: {
          date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
          command: opts.command,
          rounds: env.rounds,
          duration: env.duration,
          warmup: env.warmup,
          node: process.version,
          redis: redisVersion,
          machine: machine(),
          seconds: Math.round((Date.now() - started) / 1000),
        },
      };
      summarize(result);
      evaluateTargets(result);
      if (scenario.analysis) result.analysis = scenario.analysis;
      results.push(result);
      if (opts.rawDir) {
        mkdirSync(opts.rawDir, { recursive: true });
        writeFileSync(join(opts.rawDir, `${scenario.id}.json`), JSON.stringify(result, null, 2));
      }
      if (opts.docsDir) {
        mkdirSync(join(opts.docsDir, 'benchmarks'), { recursive: true });
        writeFileSync(join(opts.docsDir, 'benchmarks', `${scenario.id}.json`), JSON.stringify(stripForDocs(result), null, 1));
        writeDocs(opts.docsDir, ORDER, INTRO);
      }
      for (const t of result.targetResults) log(`  target ${t.met ? 'met' : 'MISSED'}: ${t.label}: ${t.checks.map((c) => `${c.what}: ${c.detail}`).join('; ')}`);
      log(`  (${result.env.seconds} s)`);
    }
  } finally {
    await loader.close().catch(() => {});
    await admin.close().catch(() => {});
    await redis.stop().catch(() => {});
    killTracked();
  }
  return results;
}

/** What the docs need: no per-request latency arrays, commands rounded. */
function stripForDocs(result) {
  return {
    ...result,
    contenders: result.contenders.map((c) => ({
      ...c,
      rounds: c.rounds.map(({ statusCodes, ...r }) => ({ ...r, rps: Math.round(r.rps), seconds: Math.round(r.seconds * 100) / 100 })),
    })),
  };
}
