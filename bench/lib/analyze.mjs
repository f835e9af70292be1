// Turns raw rounds into what the report quotes: medians, per-round ratios to
// the floor and to the best peer (median and range), and target verdicts.

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function ratioStats(mine, theirs) {
  const ratios = [];
  for (let i = 0; i < Math.min(mine.length, theirs.length); i++) {
    if (mine[i] > 0 && theirs[i] > 0) ratios.push(mine[i] / theirs[i]);
  }
  if (!ratios.length) return undefined;
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

/**
 * `result.contenders[i].rounds[r].rps` (or `.ops` for locks) -> summary per contender:
 * `{ rps, p50, p99, vsFloor, vsBestPeer, cmdsPerReq }`, and the best peer's id.
 */
export function summarize(result) {
  const ok = result.contenders.filter((c) => c.status === 'ok' && c.rounds.length);
  const rate = (c) => c.rounds.map((r) => r.rps);
  for (const c of ok) {
    c.summary = {
      rps: median(rate(c)),
      p50: median(c.rounds.map((r) => r.p50)),
      p99: median(c.rounds.map((r) => r.p99)),
      rpsMin: Math.min(...rate(c)),
      rpsMax: Math.max(...rate(c)),
      cmdsPerReq: mergeCommands(c.rounds),
      // µs of CPU per request (HTTP scenarios): the contender's process, and redis-server.
      appCpu: c.rounds.every((r) => r.appCpu !== undefined) ? median(c.rounds.map((r) => r.appCpu)) : undefined,
      redisCpu: c.rounds.every((r) => r.redisCpu !== undefined) ? median(c.rounds.map((r) => r.redisCpu)) : undefined,
    };
  }
  const floor = ok.find((c) => c.kind === 'floor');
  const peers = ok.filter((c) => c.kind === 'peer');
  const bestPeer = peers.sort((a, b) => b.summary.rps - a.summary.rps)[0];
  for (const c of ok) {
    if (floor) c.summary.vsFloor = ratioStats(rate(c), rate(floor));
    if (bestPeer) c.summary.vsBestPeer = ratioStats(rate(c), rate(bestPeer));
    if (floor && c.summary.appCpu !== undefined && floor.summary.appCpu) {
      // Per round, like the throughput ratios: the contender's app CPU per request over the floor's.
      c.summary.cpuVsFloor = ratioStats(c.rounds.map((r) => r.appCpu), floor.rounds.map((r) => r.appCpu));
    }
  }
  result.bestPeer = bestPeer?.id;
  result.floor = floor?.id;
  return result;
}

/** Commands per request over all rounds: sum of command deltas / sum of requests, per command and total. */
export function mergeCommands(rounds) {
  let requests = 0;
  const sum = {};
  for (const r of rounds) {
    requests += r.requests;
    for (const [cmd, n] of Object.entries(r.commands ?? {})) sum[cmd] = (sum[cmd] ?? 0) + n;
  }
  const per = {};
  let total = 0;
  for (const [cmd, n] of Object.entries(sum)) {
    per[cmd] = n / Math.max(1, requests);
    total += per[cmd];
  }
  return { total, per };
}

/** True when the range of per-round ratios straddles `x`: the gap to `x` is within the noise. */
export function withinSpread(stats, x = 1) {
  return !!stats && stats.min <= x && stats.max >= x;
}

/**
 * Evaluates a scenario's targets against its summary. A target:
 * `{ contender, label, vs: 'floor' | '<contender id>', ratio, roundTrips, commands, bytesMax, bytesOverBody }`.
 */
export function evaluateTargets(result) {
  const byId = Object.fromEntries(result.contenders.map((c) => [c.id, c]));
  const out = [];
  for (const t of result.targets ?? []) {
    const c = byId[t.contender];
    const checks = [];
    if (!c || c.status !== 'ok') {
      out.push({ ...t, met: false, checks: [{ what: 'ran', met: false, detail: c?.error ?? 'not run' }] });
      continue;
    }
    if (t.ratio !== undefined) {
      const other = t.vs === 'floor' ? byId[result.floor] : t.vs === 'best-peer' ? byId[result.bestPeer] : byId[t.vs];
      const stats = other?.summary ? ratioOf(c, other) : undefined;
      const met = !!stats && stats.median >= t.ratio;
      // Beside the throughput ratio, the CPU each spent per request (the
      // steadier measure): a contender that misses on requests/s while doing
      // less work per request than the reference lost to the machine's noise.
      const cpu = other?.summary ? cpuRatioOf(c, other) : undefined;
      const cpuNote = cpu ? `; app CPU per request ${fmt(cpu.median)}x ${t.vs === 'floor' ? "the floor's" : 'theirs'} (rounds ${fmt(cpu.min)}-${fmt(cpu.max)}, lower is cheaper)` : '';
      checks.push({
        what: `>= ${t.ratio}x ${t.vs === 'floor' ? 'the floor' : t.vs === 'best-peer' ? `the best peer (${other?.label ?? 'none'})` : other?.label ?? t.vs}`,
        met,
        detail: stats ? `${fmt(stats.median)}x (rounds ${fmt(stats.min)}-${fmt(stats.max)})${withinSpread(stats, t.ratio) ? ', within the spread' : ''}${cpuNote}` : 'no data',
      });
    }
    if (t.roundTrips !== undefined) {
      const rt = c.calibration?.roundTripsPerRequest;
      checks.push({ what: `${t.roundTrips} Redis round trip${t.roundTrips === 1 ? '' : 's'} per request`, met: rt !== undefined && Math.abs(rt - t.roundTrips) < 0.05, detail: rt === undefined ? 'not measured' : `${fmt(rt)} (${describeCommands(c.calibration.topLevelPerRequest)})` });
    }
    if (t.bytesMax !== undefined) {
      const b = c.memory?.bytesPerItem;
      checks.push({ what: `<= ${t.bytesMax} B per ${t.itemName ?? 'item'}`, met: b !== undefined && b <= t.bytesMax, detail: b === undefined ? 'not measured' : `${Math.round(b)} B` });
    }
    if (t.bytesOverFloor !== undefined) {
      // The floor stores the same bytes as one plain string: what the body alone costs in Redis.
      const b = c.memory?.bytesPerItem;
      const f = byId[result.floor]?.memory?.bytesPerItem;
      const over = b === undefined || f === undefined ? undefined : b - f;
      checks.push({ what: `<= the floor's bytes + ${t.bytesOverFloor} B per entry`, met: over !== undefined && over <= t.bytesOverFloor, detail: over === undefined ? 'not measured' : `${Math.round(b)} B vs ${Math.round(f)} B (+${Math.round(over)} B)` });
    }
    if (t.violations !== undefined) {
      const v = c.rounds.reduce((s, r) => s + (r.violations ?? 0), 0);
      checks.push({ what: 'zero exclusion violations', met: v === 0, detail: `${v}` });
    }
    out.push({ ...t, met: checks.every((x) => x.met), checks });
  }
  result.targetResults = out;
  return out;
}

function cpuRatioOf(c, other) {
  if (!c.rounds.every((r) => r.appCpu !== undefined) || !other.rounds.every((r) => r.appCpu !== undefined)) return undefined;
  return ratioStats(c.rounds.map((r) => r.appCpu), other.rounds.map((r) => r.appCpu));
}

function ratioOf(c, other) {
  const a = c.rounds.map((r) => r.rps);
  const b = other.rounds.map((r) => r.rps);
  return ratioStats(a, b);
}

export function describeCommands(per) {
  if (!per) return '';
  return Object.entries(per)
    .filter(([, n]) => n >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([cmd, n]) => `${cmd.toUpperCase()}${Math.abs(n - 1) < 0.005 ? '' : ` x${fmt(n)}`}`)
    .join(' + ');
}

export function fmt(x, digits = 2) {
  if (x === undefined || x === null || Number.isNaN(x)) return '-';
  if (Math.abs(x) >= 100) return String(Math.round(x));
  return Number(x.toFixed(digits)).toString();
}
