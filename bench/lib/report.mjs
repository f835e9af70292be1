// Writes docs/benchmarks.md and one SVG chart per scenario from the stored
// per-scenario results (docs/benchmarks/<id>.json), so the docs never hold
// hand-typed numbers and a one-scenario run keeps the others' latest results.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeCommands, fmt, withinSpread } from './analyze.mjs';

const COLORS = { floor: '#6b7280', ceiling: '#c7cbd1', rediskit: '#2563eb', peer: '#ea7c1f' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A horizontal bar chart: median rate per contender, whiskers for the round range, a line at the floor. */
export function renderSvg(result) {
  const rows = result.contenders.filter((c) => c.summary);
  const unit = result.unit ?? 'req/s';
  const labelW = 300;
  const chartW = 420;
  const rowH = 26;
  const top = 44;
  const width = labelW + chartW + 90;
  const height = top + rows.length * rowH + 34;
  const max = Math.max(1, ...rows.map((c) => c.summary.rpsMax ?? c.summary.rps));
  const niceMax = niceCeil(max);
  const x = (v) => labelW + (v / niceMax) * chartW;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="20" font-size="14" font-weight="600">${esc(result.title)}</text>`,
    `<text x="12" y="36" fill="#555">median ${esc(unit)} over ${result.env?.rounds ?? '?'} rounds (whiskers: slowest and fastest round); dashed line: the floor</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (niceMax / 4) * i;
    parts.push(`<line x1="${x(v)}" y1="${top - 4}" x2="${x(v)}" y2="${top + rows.length * rowH}" stroke="#eee"/>`);
    parts.push(`<text x="${x(v)}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#777">${esc(compact(v))}</text>`);
  }
  rows.forEach((c, i) => {
    const y = top + i * rowH;
    const s = c.summary;
    parts.push(`<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${esc(c.label)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y + 5}" width="${Math.max(1, x(s.rps) - labelW)}" height="${rowH - 10}" fill="${COLORS[c.kind] ?? '#999'}"/>`);
    if (s.rpsMin !== undefined) {
      parts.push(`<line x1="${x(s.rpsMin)}" y1="${y + rowH / 2}" x2="${x(s.rpsMax)}" y2="${y + rowH / 2}" stroke="#111" stroke-width="1"/>`);
      parts.push(`<line x1="${x(s.rpsMin)}" y1="${y + 8}" x2="${x(s.rpsMin)}" y2="${y + rowH - 8}" stroke="#111"/>`);
      parts.push(`<line x1="${x(s.rpsMax)}" y1="${y + 8}" x2="${x(s.rpsMax)}" y2="${y + rowH - 8}" stroke="#111"/>`);
    }
    const ratio = s.vsFloor ? ` (${fmt(s.vsFloor.median)}x)` : '';
    parts.push(`<text x="${x(s.rpsMax ?? s.rps) + 6}" y="${y + 16}" fill="#333">${esc(compact(s.rps))}${esc(ratio)}</text>`);
  });
  const floor = rows.find((c) => c.kind === 'floor');
  if (floor) {
    parts.push(`<line x1="${x(floor.summary.rps)}" y1="${top - 4}" x2="${x(floor.summary.rps)}" y2="${top + rows.length * rowH}" stroke="#111" stroke-dasharray="4 3"/>`);
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function compact(v) {
  if (v >= 10_000) return `${Math.round(v / 1000)}k`;
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k`;
  return String(Math.round(v));
}

const bytes = (b) => (b === undefined ? '-' : b >= 10_000 ? `${(b / 1024).toFixed(1)} KiB` : `${Math.round(b)} B`);
const ratio = (r) => (r ? `${fmt(r.median)} (${fmt(r.min)}-${fmt(r.max)})` : '-');

/** The markdown section of one scenario. */
export function renderScenario(result) {
  const unit = result.unit ?? 'req/s';
  const lines = [`## ${result.title}`, ''];
  if (result.description) lines.push(result.description, '');
  const e = result.env ?? {};
  lines.push(
    `Run ${e.date ?? '?'} with \`${e.command ?? 'npm run bench'}\`: ${e.rounds} rounds of ${e.duration} s per contender after ${e.warmup} s of warm-up, ${result.loadNote ?? `${result.connections ?? 32} connections`}; Node ${e.node}, Redis ${e.redis}, ${e.machine}.`,
    '',
    `![${esc(result.title)}](benchmarks/${result.id}.svg)`,
    '',
  );
  const hasMem = result.contenders.some((c) => c.memory);
  const hasCpu = result.contenders.some((c) => c.summary?.appCpu !== undefined);
  const head = [
    'contender', 'versions', `${unit} (median)`, 'p50 ms', 'p99 ms', 'vs floor (rounds)', 'vs best peer (rounds)',
    ...(hasCpu ? ['app CPU µs/req (vs floor)', 'Redis CPU µs/req'] : []),
    'round trips', 'commands run',
    ...(hasMem ? ['bytes per item', 'used_memory per item'] : []),
  ];
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (const c of result.contenders) {
    const versions = Object.entries(c.versions ?? {}).map(([n, v]) => `${n} ${v}`).join(', ') || '-';
    if (!c.summary) {
      lines.push(`| ${esc(c.label)} | ${versions} | did not run: ${esc(c.error ?? 'no rounds')} |${' |'.repeat(head.length - 3)}`);
      continue;
    }
    const s = c.summary;
    const rt = c.calibration ? `${fmt(c.calibration.roundTripsPerRequest)}: ${describeCommands(c.calibration.topLevelPerRequest) || 'none'}` : '-';
    const cmds = `${fmt(s.cmdsPerReq.total)}`;
    const mem = hasMem
      ? [c.memory ? `${bytes(c.memory.bytesPerItem)} in ${fmt(c.memory.keysPerItem)} key${c.memory.keysPerItem === 1 ? '' : 's'}` : '-', c.memory ? bytes(c.memory.usedMemoryPerItem) : '-']
      : [];
    const flags = c.rounds.some((r) => r.non2xx || r.errors) ? ' (some non-2xx or errors)' : '';
    const cpu = hasCpu
      ? [
          s.appCpu === undefined ? '-' : `${Math.round(s.appCpu)}${c.kind === 'floor' || !s.cpuVsFloor ? '' : ` (${ratio(s.cpuVsFloor)})`}`,
          s.redisCpu === undefined ? '-' : `${Math.round(s.redisCpu)}`,
        ]
      : [];
    const cells = [
      `${esc(c.label)}${flags}`, versions, compactFull(s.rps), fmt(s.p50), fmt(s.p99),
      c.kind === 'floor' ? '1' : ratio(s.vsFloor), result.bestPeer === c.id ? '1 (best peer)' : ratio(s.vsBestPeer), ...cpu, rt, cmds, ...mem,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push(
    (hasCpu
      ? '"app CPU": user + system CPU time of the contender\'s process over the timed rounds per request (`process.cpuUsage()`), median of the rounds, with the per-round ratio to the floor\'s (lower is cheaper); "Redis CPU": redis-server\'s CPU time (`INFO cpu`) over the same rounds per request. Unlike requests/s, CPU per request hardly moves with the other load on the machine. '
      : '') +
      '"round trips": commands each request sends to Redis, counted with MONITOR over a separate sequential run; "commands run": `INFO commandstats` delta over the timed rounds per request, which also counts the commands a Lua script runs inside.' +
      (hasMem ? ` "bytes per item": \`MEMORY USAGE\` of every key after ${result.fill?.count ?? 'N'} items were stored, per item; "used_memory per item": the \`used_memory\` delta over the same fill.` : ''),
    '',
  );
  const notes = [];
  const best = result.contenders.find((c) => c.id === result.bestPeer);
  for (const c of result.contenders.filter((x) => x.kind === 'rediskit' && x.summary?.vsBestPeer)) {
    const r = c.summary.vsBestPeer;
    const gap = Math.round((r.median - 1) * 100);
    notes.push(
      `${c.label} vs ${best.label}: ${gap >= 0 ? `${gap}% ahead` : `${-gap}% behind`} (per-round ratio ${fmt(r.min)}-${fmt(r.max)})${withinSpread(r) ? ': within the spread of the rounds, not a measured difference' : ''}.`,
    );
  }
  for (const c of result.contenders) {
    if (c.note) notes.push(`${c.label}: ${c.note}`);
    const origin = c.rounds.reduce((s, r) => s + (r.origin ?? 0), 0);
    if (result.expectNoOrigin && c.kind !== 'ceiling' && origin > 0) notes.push(`${c.label}: the handler ran ${origin} times during the timed rounds (misses).`);
  }
  if (notes.length) lines.push(...notes.map((n) => `- ${n}`), '');
  if (result.targetResults?.length) {
    lines.push('Targets:', '');
    for (const t of result.targetResults) {
      lines.push(`- ${t.met ? 'met' : '**missed**'}: ${t.label ?? t.contender}: ${t.checks.map((c) => `${c.what}: ${c.detail}${c.met ? '' : ' (missed)'}`).join('; ')}`);
    }
    lines.push('');
  }
  if (result.analysis) lines.push(result.analysis, '');
  return lines.join('\n');
}

const compactFull = (v) => (v >= 1000 ? Math.round(v).toLocaleString('en-US') : fmt(v));

/** Rewrites docs/benchmarks.md (and the SVGs) from every stored scenario result, in `order`. */
export function writeDocs(docsDir, order, intro) {
  const dir = join(docsDir, 'benchmarks');
  mkdirSync(dir, { recursive: true });
  const results = [];
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    if (f.endsWith('.json')) results.push(JSON.parse(readFileSync(join(dir, f), 'utf8')));
  }
  results.sort((a, b) => (order.indexOf(a.id) + 1 || 99) - (order.indexOf(b.id) + 1 || 99));
  for (const r of results) writeFileSync(join(dir, `${r.id}.svg`), renderSvg(r));
  const toc = results.map((r) => `- [${r.title}](#${slug(r.title)})`).join('\n');
  const body = results.map(renderScenario).join('\n');
  const md = `${intro}\n\n${toc}\n\n${summaryTable(results)}\n${body}`;
  writeFileSync(join(docsDir, 'benchmarks.md'), md.replace(/\n{3,}/g, '\n\n'));
  return results;
}

function summaryTable(results) {
  const rows = results.flatMap((r) => (r.targetResults ?? []).map((t) => `| ${esc(r.title)} | ${esc(t.label ?? t.contender)} | ${t.met ? 'met' : '**missed**'} | ${t.checks.map((c) => `${c.what}: ${c.detail}`).join('; ')} |`));
  if (!rows.length) return '';
  return ['## Targets at a glance', '', '| scenario | target | verdict | measured |', '|---|---|---|---|', ...rows, ''].join('\n');
}

const slug = (s) => s.toLowerCase().replace(/[^a-z0-9 -]/g, '').trim().replace(/ /g, '-');
