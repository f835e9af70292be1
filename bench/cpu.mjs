#!/usr/bin/env node
// CPU per request (or per lock operation) of each contender, not throughput:
// on a shared, noisy machine the CPU a process spends per request is far more
// stable than requests/s, and it is what a contender costs.
//
//   node bench/cpu.mjs idempotency-first [--requests 4000] [--rounds 3] [--connections 16] [--only a,b]
//   node bench/cpu.mjs locks [--ops 2000] [--rounds 3] [--only rediskit,redis-semaphore]
//   node bench/cpu.mjs idempotency-replay --parallel   # all contenders loaded at once
//
// Each contender runs in its own process (bench/lib/host.mjs) on one shared
// redis-server; the load runs in this process. Reported per request: the
// contender process's user+system CPU (process.cpuUsage() deltas), Redis
// commands (INFO commandstats deltas, which also count commands run inside
// scripts) and redis-server CPU (INFO cpu deltas). Medians over the rounds,
// and each contender's per-round ratio to the floor of the same round (the
// order of contenders rotates each round).
//
// Profiles: `--prof DIR` starts the contenders with `node --cpu-prof` (wall
// clock: a process that waits for the CPU is charged to the frame it was in);
// `--perf DIR` records on-CPU samples of the measured load with `perf record
// -e cpu-clock` and `--perf-basic-prof-only-functions` (JIT frames named).
// `--module FILE` takes the scenario from another module (variants made for
// an experiment). Needs `npm run build` (contenders load the built packages).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Child } from './lib/procs.mjs';
import { builtinLoad } from './lib/load.mjs';
import { Admin, ADMIN_COMMANDS, diffCommandStats, parseInfoField, startRedisServer } from './lib/redis.mjs';
import { roundOrder } from './lib/runner.mjs';
import { allScenarios } from './scenarios/index.mjs';

const HOST = fileURLToPath(new URL('./lib/host.mjs', import.meta.url));
const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: 'string', default: '4000' },
    ops: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '1000' },
    only: { type: 'string' },
    prof: { type: 'string' },
    module: { type: 'string' },
    perf: { type: 'string' },
    parallel: { type: 'boolean' },
    'node-args': { type: 'string' },
  },
});
// --module: a scenario module outside the registry (e.g. variants made for an experiment).
const registry = opts.module ? (await import(new URL(opts.module, `file://${process.cwd()}/`).href)).scenarios : allScenarios;
const scenario = registry.find((s) => s.id === positionals[0]);
if (!scenario) {
  console.error(`usage: node bench/cpu.mjs <scenario> (one of ${registry.map((s) => s.id).join(', ')})`);
  process.exit(2);
}
const only = opts.only?.split(',');
const specs = scenario.contenders.filter((c) => c.kind !== 'ceiling' || only?.includes(c.id)).filter((c) => !only || only.includes(c.id));
const rounds = Number(opts.rounds);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuMicros = (a, b) => b.user - a.user + (b.system - a.system);

// `--perf DIR`: on-CPU samples (perf record -e cpu-clock: kernel and JIT frames, no
// off-CPU wait, unlike --cpu-prof's wall clock) of the measured load only.
function startPerf(c) {
  const pids = c.hosts.map((h) => h.host.child.pid).join(',');
  const out = `${opts.perf}/${scenario.id}-${c.spec.id}-${c.rows.length}.data`;
  const child = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '1999', '-g', '-p', pids, '-o', out], { stdio: 'ignore' });
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGINT');
      }),
  };
}

async function redisCpu(admin) {
  const info = await admin.redis.info('cpu');
  return (Number(parseInfoField(info, 'used_cpu_user')) + Number(parseInfoField(info, 'used_cpu_sys'))) * 1e6;
}

if (opts.perf) mkdirSync(opts.perf, { recursive: true });
const redis = await startRedisServer();
const admin = new Admin(redis.url);
const live = [];
try {
  for (const spec of specs) {
    const n = scenario.kind === 'locks' ? scenario.workers : 1;
    const hosts = [];
    for (let i = 0; i < n; i++) {
      const extra = opts['node-args']?.split(' ').filter(Boolean) ?? [];
      const execArgv = extra.length ? extra : opts.perf ? ['--perf-basic-prof-only-functions'] : opts.prof ? ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', opts.prof, '--cpu-prof-name', `${scenario.id}-${spec.id}-${i}.cpuprofile`] : [];
      const host = new Child(HOST, [scenario.module, spec.id, redis.url, JSON.stringify({ ...scenario.params, ...spec.params, worker: i })], {
        label: `${spec.id}#${i}`,
        execArgv,
      });
      const started = await host.request({ type: 'start' }, 60_000);
      hosts.push({ host, ...started });
    }
    live.push({ spec, hosts, rows: [] });
  }

  const measure = async (c, fn) => {
    const cpu0 = await Promise.all(c.hosts.map((h) => h.host.request({ type: 'cpu' })));
    const cs0 = await admin.commandStats();
    const r0 = await redisCpu(admin);
    const t0 = performance.now();
    const perf = opts.perf ? startPerf(c) : undefined;
    const count = await fn();
    await perf?.stop();
    const ms = performance.now() - t0;
    const r1 = await redisCpu(admin);
    const cs1 = await admin.commandStats();
    const cpu1 = await Promise.all(c.hosts.map((h) => h.host.request({ type: 'cpu' })));
    const app = cpu0.reduce((s, a, i) => s + cpuMicros(a, cpu1[i]), 0);
    const sys = cpu0.reduce((s, a, i) => s + (cpu1[i].system - a.system), 0);
    const commands = diffCommandStats(cs0, cs1, ADMIN_COMMANDS);
    const total = Object.values(commands).reduce((a, b) => a + b, 0);
    return { count, app: app / count, sys: sys / count, redis: (r1 - r0) / count, commands: total / count, byCommand: commands, rate: (count / ms) * 1000 };
  };

  const httpSetup = async (c) => {
    const target = `http://127.0.0.1:${c.hosts[0].port}`;
    const prep = (await scenario.prepare?.({ contender: c.spec, target, admin: admin.redis, host: c.hosts[0].host, params: scenario.params })) ?? {};
    return { target, request: prep.request ?? scenario.request, vary: prep.vary ?? scenario.vary, connections: Number(opts.connections) };
  };
  // --parallel: every contender under load at the same time, each from its own
  // client loop, so all of them run on the machine's load of the same moment.
  // App CPU only: Redis CPU and commands cannot be split between contenders.
  const parallelRound = async (round) => {
    await admin.flush();
    const setups = [];
    for (const c of live) setups.push(await httpSetup(c));
    await Promise.all(setups.map((x) => builtinLoad({ ...x, amount: Number(opts.warmup) })));
    const cpu0 = await Promise.all(live.map((c) => c.hosts[0].host.request({ type: 'cpu' })));
    const results = await Promise.all(setups.map((x) => builtinLoad({ ...x, amount: Number(opts.requests) })));
    const cpu1 = await Promise.all(live.map((c) => c.hosts[0].host.request({ type: 'cpu' })));
    live.forEach((c, i) => {
      const r = results[i];
      const failed = r.errors + r.non2xx;
      if (failed) console.log(`  ${c.spec.id}: status codes ${JSON.stringify(r.statusCodes)}, errors ${r.errors}`);
      c.rows.push({ count: r.requests, app: cpuMicros(cpu0[i], cpu1[i]) / r.requests, sys: (cpu1[i].system - cpu0[i].system) / r.requests, redis: NaN, commands: NaN, byCommand: {}, rate: r.rps, failed });
      const last = c.rows.at(-1);
      console.log(`round ${round + 1}/${rounds} ${c.spec.id.padEnd(18)} app ${last.app.toFixed(0).padStart(5)} us/op (sys ${last.sys.toFixed(0)})  ${Math.round(last.rate)} op/s${failed ? `  FAILED ${failed}` : ''}`);
    });
  };

  for (let round = 0; round < rounds; round++) {
    if (opts.parallel && scenario.kind !== 'locks') {
      await parallelRound(round);
      continue;
    }
    for (const c of roundOrder(live, round)) {
      await admin.flush();
      if (scenario.kind === 'locks') {
        scenario.cleanup?.();
        const amount = Math.ceil(Number(opts.ops) / c.hosts.length);
        await Promise.all(c.hosts.map((h) => h.host.request({ type: 'run', durationMs: 0, amount: Math.ceil(amount / 4) })));
        let violations = 0;
        let failures = 0;
        const row = await measure(c, async () => {
          const res = await Promise.all(c.hosts.map((h) => h.host.request({ type: 'run', durationMs: 0, amount }, 600_000)));
          violations = res.reduce((s, r) => s + r.violations, 0);
          failures = res.reduce((s, r) => s + r.failures, 0);
          return res.reduce((s, r) => s + r.ops, 0);
        });
        c.rows.push({ ...row, violations, failures });
      } else {
        const { target, request, vary, connections } = await httpSetup(c);
        await builtinLoad({ target, request, vary, connections, amount: Number(opts.warmup) });
        let failed = 0;
        let latency = '';
        const row = await measure(c, async () => {
          const r = await builtinLoad({ target, request, vary, connections, amount: Number(opts.requests) });
          failed = r.errors + r.non2xx;
          if (failed) console.log(`  ${c.spec.id}: status codes ${JSON.stringify(r.statusCodes)}, errors ${r.errors}`);
          latency = `p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms`;
          return r.requests;
        });
        c.rows.push({ ...row, failed, latency });
      }
      const last = c.rows.at(-1);
      console.log(
        `round ${round + 1}/${rounds} ${c.spec.id.padEnd(18)} app ${last.app.toFixed(0).padStart(5)} us/op (sys ${last.sys.toFixed(0)})  redis ${last.redis.toFixed(0).padStart(4)} us/op  ` +
          `commands ${last.commands.toFixed(2)}  ${Math.round(last.rate)} op/s ${last.latency ?? ''}${last.failed ? `  FAILED ${last.failed}` : ''}${last.violations ? `  VIOLATIONS ${last.violations}` : ''}${last.failures ? `  failures ${last.failures}` : ''}`,
      );
    }
  }
  console.log(`\n${scenario.id}: medians over ${rounds} rounds (app = contender CPU per ${scenario.kind === 'locks' ? 'acquire+release, all workers' : 'request'})`);
  // Per-round ratio to the floor: contenders of one round share the machine's load of that moment.
  const floor = live.find((c) => c.spec.kind === 'floor');
  for (const c of live) {
    const m = (k) => median(c.rows.map((r) => r[k]));
    const ratios = floor ? c.rows.map((r, i) => r.app / floor.rows[i].app) : [];
    const vsFloor = floor ? `  ${median(ratios).toFixed(2)}x floor (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})` : '';
    const cmds = Object.entries(c.rows.at(-1).byCommand).map(([k, v]) => `${k} ${(v / c.rows.at(-1).count).toFixed(2)}`).join(', ');
    console.log(`  ${c.spec.id.padEnd(18)} app ${m('app').toFixed(0).padStart(5)} us (sys ${m('sys').toFixed(0)})  redis ${m('redis').toFixed(0).padStart(4)} us  commands ${m('commands').toFixed(2)} (${cmds})  ${Math.round(m('rate'))} op/s${vsFloor}`);
  }
} finally {
  await Promise.all(live.flatMap((c) => c.hosts.map((h) => h.host.close())));
  await admin.close();
  await redis.stop();
}
