#!/usr/bin/env node
// App CPU time per request, a steadier measure than requests/s on a shared
// machine: each contender runs in its own process (lib/host.mjs), autocannon
// in another process drives a fixed number of requests, and the contender's
// `process.cpuUsage()` delta (user + system) is divided by the requests served.
// Contenders alternate round by round; the median per contender is reported,
// with its ratio to the floor. Redis's side comes from `INFO commandstats`
// (usec per call of the commands sent) and `INFO cpu` deltas.
//
//   node bench/cpu.mjs rate-limit-hot                       # every contender of the scenario
//   node bench/cpu.mjs rate-limit-10k floor rediskit-gcra   # some of them
//   node bench/cpu.mjs rate-limit-hot floor rediskit-fixed --requests 20000 --rounds 5
//   node bench/cpu.mjs rate-limit-hot rediskit-fixed --prof # plus a CPU profile summary per contender
//
// Needs the built packages (`npm run build`) and bench's dependencies, like `npm run bench`.
// On a busy machine a rediskit contender may time out on Redis and fail open
// (a decision without Redis is cheaper): it shows as fewer than one EVALSHA
// per request in the last column; such runs understate rediskit's cost.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Child } from './lib/procs.mjs';
import { Admin, parseInfoField, startRedisServer } from './lib/redis.mjs';
import { allScenarios } from './scenarios/index.mjs';

const HOST = fileURLToPath(new URL('./lib/host.mjs', import.meta.url));
const LOAD = fileURLToPath(new URL('./lib/load-process.mjs', import.meta.url));

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '5000' },
    connections: { type: 'string' },
    prof: { type: 'boolean', default: false },
    top: { type: 'string', default: '25' },
    // An extra scenario module (exports `scenarios`), for ad hoc contenders.
    scenarios: { type: 'string' },
  },
});

const [scenarioId, ...only] = positionals;
const extra = opts.scenarios ? (await import(pathToFileURL(resolve(opts.scenarios)).href)).scenarios : [];
const scenario = [...extra, ...allScenarios].find((s) => s.id === scenarioId);
if (!scenario || scenario.kind !== 'http') {
  console.error(`usage: node bench/cpu.mjs <http scenario> [contender ...]; scenarios: ${allScenarios.filter((s) => s.kind === 'http').map((s) => s.id).join(', ')}`);
  process.exit(2);
}
const specs = only.length ? only.map((id) => scenario.contenders.find((c) => c.id === id) ?? fail(`no contender ${id} in ${scenarioId}`)) : scenario.contenders;
const requests = Number(opts.requests);
const rounds = Number(opts.rounds);
const connections = Number(opts.connections ?? scenario.connections ?? 32);

function fail(message) {
  console.error(message);
  process.exit(2);
}

function cpuFields(info) {
  return Number(parseInfoField(info, 'used_cpu_user')) + Number(parseInfoField(info, 'used_cpu_sys'));
}

/** `{ evalsha: { calls, usec } }` from INFO commandstats. */
function commandUsec(info) {
  const out = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const redis = await startRedisServer();
const admin = new Admin(redis.url);
const loader = new Child(LOAD, [], { label: 'load generator' });
const profDir = opts.prof ? mkdtempSync(join(tmpdir(), 'rediskit-cpu-prof-')) : undefined;
const live = [];
try {
  for (const spec of specs) {
    const execArgv = profDir ? ['--cpu-prof', '--cpu-prof-dir', join(profDir, spec.id)] : [];
    const host = new Child(HOST, [scenario.module, spec.id, redis.url, JSON.stringify({ ...scenario.params, ...spec.params })], { label: spec.id, execArgv });
    const { port } = await host.request({ type: 'start' }, 60_000);
    live.push({ spec, host, target: `http://127.0.0.1:${port}`, app: [], redisCpu: [], usecPerCall: [], commands: [] });
  }
  const load = (c, amount) =>
    loader.request({ type: 'load', engine: 'autocannon', target: c.target, request: scenario.request, vary: scenario.vary, connections, amount }, 600_000);
  for (const c of live) {
    const r = await load(c, Number(opts.warmup));
    if (r.errors || r.non2xx) throw new Error(`${c.spec.id}: warm-up failed: ${JSON.stringify(r.statusCodes)} errors=${r.errors}`);
  }
  for (let round = 0; round < rounds; round++) {
    const order = [...live.slice(round % live.length), ...live.slice(0, round % live.length)];
    for (const c of order) {
      const cmdBefore = commandUsec(await admin.redis.info('commandstats'));
      const redisBefore = cpuFields(await admin.redis.info('cpu'));
      const before = await c.host.request({ type: 'cpu' });
      const r = await load(c, requests);
      const after = await c.host.request({ type: 'cpu' });
      const redisAfter = cpuFields(await admin.redis.info('cpu'));
      const cmdAfter = commandUsec(await admin.redis.info('commandstats'));
      if (r.errors || r.non2xx) throw new Error(`${c.spec.id}: ${JSON.stringify(r.statusCodes)} errors=${r.errors}`);
      const appUs = (after.user - before.user + after.system - before.system) / r.requests;
      c.app.push(appUs);
      c.redisCpu.push(((redisAfter - redisBefore) * 1e6) / r.requests);
      let calls = 0;
      let usec = 0;
      const sent = [];
      for (const [cmd, v] of Object.entries(cmdAfter)) {
        if (['info', 'ping', 'client', 'select', 'script'].includes(cmd)) continue;
        const d = v.calls - (cmdBefore[cmd]?.calls ?? 0);
        if (d <= 0) continue;
        calls += d;
        usec += v.usec - (cmdBefore[cmd]?.usec ?? 0);
        sent.push(`${cmd} ${(d / r.requests).toFixed(2)}`);
      }
      c.usecPerCall.push(usec / r.requests);
      c.commands = sent;
      console.log(`round ${round + 1} ${c.spec.id.padEnd(24)} app ${appUs.toFixed(1).padStart(6)} us/req   ${Math.round(r.rps)} req/s`);
    }
  }
  const floor = live.find((c) => c.spec.kind === 'floor');
  const floorApp = floor ? median(floor.app) : undefined;
  console.log(`\n${scenario.id}: ${requests} requests x ${rounds} rounds, ${connections} connections, median per contender`);
  console.log('(min: the least noisy round; the machine is shared, so CPU time per request rises with other load)');
  console.log('contender                 app us/req  vs floor    min  vs floor  redis cmd us/req  redis cpu us/req  commands per request (incl. inside scripts)');
  const floorMin = floor ? Math.min(...floor.app) : undefined;
  for (const c of live) {
    const app = median(c.app);
    const min = Math.min(...c.app);
    console.log(
      `${c.spec.id.padEnd(24)} ${app.toFixed(1).padStart(10)}  ${floorApp ? (app / floorApp).toFixed(2).padStart(8) : '       -'} ${min.toFixed(1).padStart(6)}  ${floorMin ? (min / floorMin).toFixed(2).padStart(8) : '       -'}  ${median(c.usecPerCall).toFixed(1).padStart(16)}  ${median(c.redisCpu).toFixed(1).padStart(16)}  ${c.commands.join(', ')}`,
    );
  }
} finally {
  for (const c of live) await c.host.close(5000);
  await loader.close();
  await admin.redis.quit();
  await redis.stop();
}

if (profDir) {
  for (const c of live) {
    const dir = join(profDir, c.spec.id);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file) summarize(c.spec.id, JSON.parse(readFileSync(join(dir, file), 'utf8')), Number(opts.top), Number(opts.warmup) + rounds * requests);
  }
  rmSync(profDir, { recursive: true, force: true });
}

/** Self time per function and per package/file group from a .cpuprofile, in us per request served. */
function summarize(id, profile, top, served) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
  let total = 0;
  for (const [nodeId, us] of self) if (byId.get(nodeId).callFrame.functionName !== '(idle)') total += us;
  const fns = new Map();
  const groups = new Map();
  for (const [nodeId, us] of self) {
    const f = byId.get(nodeId).callFrame;
    if (f.functionName === '(idle)') continue;
    const where = f.url.replace(/^file:\/\//, '');
    const fn = `${f.functionName || '(anonymous)'} ${where.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)?.[1] ?? (/packages\/([^/]+)\/dist/.exec(where) ? `@rediskit/${/packages\/([^/]+)\/dist/.exec(where)[1]}` : where.startsWith('node:') ? 'node internals' : where ? where.split('/').slice(-1)[0] : f.functionName);
    groups.set(pkg, (groups.get(pkg) ?? 0) + us);
  }
  const pct = (us) => `${(us / served).toFixed(2).padStart(6)} us/req ${((100 * us) / total).toFixed(1).padStart(5)} %`;
  console.log(`\nprofile ${id}: ${(total / served).toFixed(1)} us busy per request (startup included, idle excluded); self time by package or group`);
  for (const [g, us] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${g}`);
  console.log(`  top functions (self time)`);
  for (const [fn, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${fn}`);
}
