// App CPU time per request: on a shared, noisy machine a steadier measure than
// requests/s. Each contender of one scenario runs in its own process (as in
// `npm run bench`); a fixed number of requests comes from the load process;
// the contender's own `process.cpuUsage()` delta is divided by the requests
// served. Each contender is prepared once (scenario.prepare), then they
// alternate over many short rounds, so the other load on the machine hits
// them alike; the report is the median and quartiles per contender.
//
//   node bench/cpu.mjs session-read                          # every contender, 30 rounds of 2,000 requests
//   node bench/cpu.mjs session-read --only rediskit,connect-redis --rounds 50 --quiet --vs connect-redis
//   node bench/cpu.mjs session-read --only rediskit --prof /tmp/prof   # also a .cpuprofile per contender
//   node bench/cpu.mjs session-read --module /tmp/my-session.mjs         # scenarios from another module
//   node bench/cpu.mjs session-read --engine autocannon --duration 2    # autocannon for 2 s a round (default: the built-in client, --requests)
//
// Needs the packages built (`npm run build`) and bench's dependencies installed.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Child, killTracked } from './lib/procs.mjs';
import { Admin, ADMIN_COMMANDS, diffCommandStats, startRedisServer } from './lib/redis.mjs';
import { roundOrder } from './lib/runner.mjs';
import { allScenarios } from './scenarios/index.mjs';

const HOST = fileURLToPath(new URL('./lib/host.mjs', import.meta.url));
const LOAD = fileURLToPath(new URL('./lib/load-process.mjs', import.meta.url));

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '30' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
    module: { type: 'string' },
    prof: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    vs: { type: 'string' },
    engine: { type: 'string', default: 'builtin' },
    duration: { type: 'string' },
  },
});
// --module: a scenario module of your own (same shape as scenarios/*.mjs), for experiments.
const candidates = values.module ? (await import(pathToFileURL(resolve(values.module)).href)).scenarios : allScenarios;
const scenario = candidates.find((s) => s.id === positionals[0]);
if (!scenario || scenario.kind !== 'http') {
  console.error(`usage: node bench/cpu.mjs <http scenario> [--requests N] [--rounds R] [--only a,b] [--prof dir]\nscenarios: ${allScenarios.filter((s) => s.kind === 'http').map((s) => s.id).join(', ')}`);
  process.exit(2);
}
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const rounds = Number(values.rounds);
const only = values.only?.split(',');
const specs = scenario.contenders.filter((c) => !only || only.includes(c.id));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const redis = await startRedisServer();
const admin = new Admin(redis.url);
const loader = new Child(LOAD, [], { label: 'load generator' });
const live = [];
try {
  if (values.prof) mkdirSync(values.prof, { recursive: true });
  for (const spec of specs) {
    const execArgv = values.prof ? ['--cpu-prof', '--cpu-prof-dir', values.prof, '--cpu-prof-name', `${spec.id}.cpuprofile`] : [];
    const host = new Child(HOST, [scenario.module, spec.id, redis.url, JSON.stringify({ ...scenario.params, ...spec.params })], { label: spec.id, execArgv });
    const { port } = await host.request({ type: 'start' }, 60_000);
    live.push({ spec, host, target: `http://127.0.0.1:${port}`, samples: [], commands: [] });
  }
  // Prepared once (each contender keeps its own keys), so rounds can be short
  // and many: contenders alternate quickly and share the machine's noise.
  await admin.flush();
  for (const c of live) {
    const prep = (await scenario.prepare?.({ contender: c.spec, target: c.target, admin: admin.redis, host: c.host, params: scenario.params })) ?? {};
    c.job = { type: 'load', engine: values.engine, target: c.target, request: prep.request ?? scenario.request, vary: prep.vary ?? scenario.vary, connections: Number(values.connections) };
    if (warmup > 0) await loader.request({ ...c.job, amount: warmup }, 600_000);
  }
  for (let round = 0; round < rounds; round++) {
    for (const c of roundOrder(live, round)) {
      const job = c.job;
      const cs0 = await admin.commandStats();
      const cpu0 = await c.host.request({ type: 'cpu' });
      const r = await loader.request(values.duration ? { ...job, duration: Number(values.duration) } : { ...job, amount: requests }, 600_000);
      const cpu1 = await c.host.request({ type: 'cpu' });
      const cs1 = await admin.commandStats();
      const failed = r.errors || r.non2xx ? `  FAILED ${JSON.stringify(r.statusCodes)} errors=${r.errors}` : '';
      const us = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / r.requests;
      const commands = Object.values(diffCommandStats(cs0, cs1, ADMIN_COMMANDS)).reduce((a, b) => a + b, 0) / r.requests;
      c.samples.push(us);
      (c.rps ??= []).push(r.rps);
      c.commands.push(commands);
      if (values.quiet && !failed) continue;
      console.log(`round ${round + 1}/${rounds} ${c.spec.id.padEnd(16)} ${us.toFixed(1).padStart(7)} µs CPU/request  ${commands.toFixed(2)} commands/request  ${Math.round(r.rps)} req/s${failed}`);
    }
  }
  console.log(`\n${scenario.id}: app CPU per request, median of ${rounds} rounds of ${values.duration ? `${values.duration} s` : `${requests} requests`} (${values.connections} connections, ${values.engine} load)`);
  // Per-round ratios to one contender (--vs): the rounds of one pass run back to
  // back, so a ratio within a round cancels most of the machine's drift.
  const ref = live.find((c) => c.spec.id === values.vs);
  const quantile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))];
  for (const c of live) {
    const q = (p) => quantile(c.samples, p);
    const ratios = ref && ref !== c ? c.samples.map((x, i) => x / ref.samples[i]) : undefined;
    const vs = ratios ? `  ${quantile(ratios, 0.5).toFixed(2)}x ${ref.spec.id} (quartiles ${quantile(ratios, 0.25).toFixed(2)}-${quantile(ratios, 0.75).toFixed(2)})` : '';
    console.log(`  ${c.spec.id.padEnd(16)} ${median(c.samples).toFixed(1).padStart(7)} µs  (quartiles ${q(0.25).toFixed(1)}-${q(0.75).toFixed(1)}, min ${q(0).toFixed(1)})  ${median(c.commands).toFixed(2)} commands/request  ${Math.round(median(c.rps))} req/s${vs}`);
  }
} finally {
  await Promise.all(live.map((c) => c.host.close()));
  await loader.close();
  await admin.close();
  await redis.stop();
  killTracked();
}
