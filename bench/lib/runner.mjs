// Runs one scenario: every contender in its own process on the shared Redis,
// flushed between contenders, load from the separate load process, rotating
// order over the rounds, then a round-trip count (MONITOR) and a memory fill
// per contender.
import { fileURLToPath } from 'node:url';
import { ADMIN_COMMANDS, diffCommandStats } from './redis.mjs';
import { Child } from './procs.mjs';
import { versionsOf } from './versions.mjs';

const HOST = fileURLToPath(new URL('./host.mjs', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Round r's order: the list rotated by r, so no contender runs twice in a row across rounds. */
export function roundOrder(ids, r) {
  const k = r % ids.length;
  return [...ids.slice(k), ...ids.slice(0, k)];
}

async function startContender(scenario, spec, redisUrl, index = 0) {
  const host = new Child(HOST, [scenario.module, spec.id, redisUrl, JSON.stringify({ ...scenario.params, ...spec.params, worker: index })], {
    label: `${scenario.id}/${spec.id}${index ? `#${index}` : ''}`,
  });
  const started = await host.request({ type: 'start' }, 60_000);
  return { host, ...started };
}

async function httpGetJson(url) {
  const res = await fetch(url);
  return res.json();
}

/**
 * @param scenario `{ id, module, kind: 'http', params, request, vary, connections, contenders: [{ id, kind, label, packages }],
 *   prepare?(ctx), check?(ctx), fill?: { count, request, vary, connections } }`
 * @param env `{ redisUrl, admin, loader, rounds, duration, warmup, engine, log }`
 */
export async function runHttpScenario(scenario, env) {
  const { admin, loader, log } = env;
  const result = { id: scenario.id, contenders: [] };
  const live = [];
  try {
    for (const spec of scenario.contenders) {
      const entry = { id: spec.id, kind: spec.kind, label: spec.label, note: spec.note, versions: versionsOf(spec.packages ?? []), rounds: [] };
      result.contenders.push(entry);
      try {
        const c = await startContender(scenario, spec, env.redisUrl);
        entry.info = c.info;
        live.push({ spec, entry, ...c, target: `http://127.0.0.1:${c.port}` });
      } catch (e) {
        entry.status = 'failed';
        entry.error = firstLine(e.message);
        log(`  ${spec.id}: failed to start: ${entry.error}`);
      }
    }

    const load = (c, opts) =>
      loader.request({ type: 'load', engine: env.engine, target: c.target, connections: scenario.connections ?? 32, ...opts }, 600_000);

    const prepare = async (c) => {
      await admin.flush();
      const prep = (await scenario.prepare?.({ contender: c.spec, target: c.target, admin: admin.redis, host: c.host, params: scenario.params })) ?? {};
      return { request: prep.request ?? scenario.request, vary: prep.vary ?? scenario.vary };
    };

    // Check: each contender answers 2xx and (for caches) serves from Redis, before anything is timed.
    for (const c of live) {
      try {
        const { request, vary } = await prepare(c);
        const before = await httpGetJson(`${c.target}/__bench/stats`);
        const r = await loader.request({ type: 'load', engine: 'builtin', target: c.target, request, vary, connections: 4, amount: 50 });
        const after = await httpGetJson(`${c.target}/__bench/stats`);
        if (r.errors || r.non2xx) throw new Error(`check requests failed: ${JSON.stringify(r.statusCodes)} errors=${r.errors}`);
        await scenario.check?.({ contender: c.spec, origin: after.origin - before.origin, requests: r.requests });
        c.entry.status = 'ok';
      } catch (e) {
        c.entry.status = 'failed';
        c.entry.error = firstLine(e.message);
        log(`  ${c.spec.id}: check failed: ${c.entry.error}`);
      }
    }
    const running = live.filter((c) => c.entry.status === 'ok');

    for (let round = 0; round < env.rounds; round++) {
      for (const c of roundOrder(running, round)) {
        const { request, vary } = await prepare(c);
        if (env.warmup > 0) await load(c, { request, vary, duration: env.warmup });
        const cs0 = await admin.commandStats();
        const o0 = await httpGetJson(`${c.target}/__bench/stats`);
        // CPU the contender's process and redis-server spent over the timed
        // load: steadier than requests/s on a shared machine (the other
        // processes slow a contender down, but do not make it do more work).
        const cpu0 = await c.host.request({ type: 'cpu' });
        const rc0 = await admin.cpuMicros();
        const r = await load(c, { request, vary, duration: env.duration });
        const cpu1 = await c.host.request({ type: 'cpu' });
        const rc1 = await admin.cpuMicros();
        await sleep(100);
        const o1 = await httpGetJson(`${c.target}/__bench/stats`);
        const cs1 = await admin.commandStats();
        const commands = diffCommandStats(cs0, cs1, ADMIN_COMMANDS);
        const served = Math.max(1, r.requests);
        const appCpu = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / served;
        const redisCpu = (rc1 - rc0) / served;
        c.entry.rounds.push({ round, ...r, commands, origin: o1.origin - o0.origin, appCpu, redisCpu });
        log(`  round ${round + 1}/${env.rounds} ${c.spec.id.padEnd(28)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms${r.non2xx || r.errors ? `  non2xx=${r.non2xx} errors=${r.errors}` : ''}`);
      }
    }

    // Round trips per request: MONITOR over a short sequential run (not timed: MONITOR slows Redis).
    for (const c of running) {
      const { request, vary } = await prepare(c);
      let served = 0;
      const seen = await admin.monitor(async () => {
        const r = await loader.request({ type: 'load', engine: 'builtin', target: c.target, request, vary, connections: 1, amount: env.calibrationRequests ?? 200 });
        served = r.requests;
      });
      c.entry.calibration = perRequest(seen, served);
    }

    // Bytes per stored item: fill `count` items, used_memory delta and MEMORY USAGE of every key.
    if (scenario.fill) {
      for (const c of running) {
        if (c.spec.noFill) continue;
        await admin.flush();
        await sleep(50);
        const m0 = await admin.usedMemory();
        const r = await loader.request(
          { type: 'load', engine: 'builtin', target: c.target, request: scenario.fill.request, vary: scenario.fill.vary, connections: scenario.fill.connections ?? 16, amount: scenario.fill.count },
          600_000,
        );
        await sleep(200);
        const m1 = await admin.usedMemory();
        const keys = await admin.keyMemory();
        const n = scenario.fill.count;
        c.entry.memory = {
          items: n,
          filled: r.requests,
          keysPerItem: keys.keys / n,
          bytesPerItem: keys.bytes / n,
          usedMemoryPerItem: (m1 - m0) / n,
          shapes: keys.shapes,
        };
        await admin.flush();
      }
    }
  } finally {
    await Promise.all(live.map((c) => c.host.close()));
  }
  return result;
}

/**
 * Locks: `workers` processes per contender, each running the contender's
 * acquire/critical section/release loop for `duration` s per round.
 */
export async function runLockScenario(scenario, env) {
  const { admin, log } = env;
  const result = { id: scenario.id, contenders: [] };
  const live = [];
  try {
    for (const spec of scenario.contenders) {
      const entry = { id: spec.id, kind: spec.kind, label: spec.label, note: spec.note, versions: versionsOf(spec.packages ?? []), rounds: [] };
      result.contenders.push(entry);
      try {
        const workers = [];
        for (let i = 0; i < scenario.workers; i++) workers.push(await startContender(scenario, spec, env.redisUrl, i));
        live.push({ spec, entry, workers });
        entry.status = 'ok';
      } catch (e) {
        entry.status = 'failed';
        entry.error = firstLine(e.message);
        log(`  ${spec.id}: failed to start: ${entry.error}`);
      }
    }
    const runAll = (c, durationMs) => Promise.all(c.workers.map((w) => w.host.request({ type: 'run', durationMs }, durationMs + 60_000)));
    for (let round = 0; round < env.rounds; round++) {
      for (const c of roundOrder(live, round)) {
        try {
          scenario.cleanup?.();
          await admin.flush();
          if (env.warmup > 0) await runAll(c, env.warmup * 1000);
          await admin.flush();
          const cs0 = await admin.commandStats();
          const res = await runAll(c, env.duration * 1000);
          await sleep(50);
          const cs1 = await admin.commandStats();
          const ops = res.reduce((s, r) => s + r.ops, 0);
          const seconds = Math.max(...res.map((r) => r.seconds));
          const lat = res.flatMap((r) => r.latencies).sort((a, b) => a - b);
          const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : 0);
          const commands = diffCommandStats(cs0, cs1, [...ADMIN_COMMANDS]);
          // The ceiling runs without a lock: its "violations" are expected, not counted.
          const violations = c.spec.kind === 'ceiling' ? 0 : res.reduce((s, r) => s + r.violations, 0);
          const failures = res.reduce((s, r) => s + r.failures, 0);
          c.entry.rounds.push({ round, requests: ops, seconds, rps: ops / seconds, p50: round2(pct(50)), p99: round2(pct(99)), commands, violations, failures });
          log(`  round ${round + 1}/${env.rounds} ${c.spec.id.padEnd(28)} ${Math.round(ops / seconds).toString().padStart(6)} ops/s  p50 ${round2(pct(50))} ms  p99 ${round2(pct(99))} ms  violations ${violations}${failures ? `  failures ${failures}` : ''}`);
        } catch (e) {
          c.entry.status = 'failed';
          c.entry.error = firstLine(e.message);
          log(`  ${c.spec.id}: failed: ${c.entry.error}`);
        }
      }
    }
    // Round trips per operation: one worker, sequential, under MONITOR.
    for (const c of live.filter((x) => x.entry.status === 'ok')) {
      scenario.cleanup?.();
      await admin.flush();
      let ops = 0;
      const seen = await admin.monitor(async () => {
        const r = await c.workers[0].host.request({ type: 'run', durationMs: 0, amount: 200, loops: 1 });
        ops = r.ops;
      });
      c.entry.calibration = perRequest(seen, ops);
    }
  } finally {
    await Promise.all(live.flatMap((c) => c.workers.map((w) => w.host.close())));
    scenario.cleanup?.();
  }
  return result;
}

function perRequest(seen, served) {
  const per = (obj) => Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, v / Math.max(1, served)]));
  const topLevelPerRequest = per(seen.topLevel);
  return {
    requests: served,
    topLevelPerRequest,
    inScriptPerRequest: per(seen.inScript),
    roundTripsPerRequest: Object.values(topLevelPerRequest).reduce((a, b) => a + b, 0),
  };
}

const round2 = (x) => Math.round(x * 100) / 100;
const firstLine = (s) => String(s).split('\n').find((l) => l.trim() && !/^\s+at /.test(l))?.trim() ?? String(s);
