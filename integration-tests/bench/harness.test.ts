// Keeps the benchmark harness (bench/) from rotting: its parsing, its report
// and SVG writer, and one tiny round of the floor and ceiling contenders
// through the real runner. Needs no peer library and asserts on no timing.
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bench = new URL('../../bench/', import.meta.url);
// A computed specifier: the harness is plain JS outside the TypeScript project.
const load = (path: string): Promise<any> => import(new URL(path, bench).href);

describe('bench harness', () => {
  it('parses INFO commandstats and takes deltas without the admin commands', async () => {
    const { parseCommandStats, diffCommandStats, ADMIN_COMMANDS } = await load('lib/redis.mjs');
    const before = parseCommandStats('# Commandstats\r\ncmdstat_get:calls=10,usec=5,usec_per_call=0.5,rejected_calls=0,failed_calls=0\r\ncmdstat_info:calls=3,usec=1\r\n');
    const after = parseCommandStats(
      '# Commandstats\r\ncmdstat_get:calls=25,usec=9\r\ncmdstat_evalsha:calls=7,usec=1\r\ncmdstat_info:calls=9,usec=1\r\ncmdstat_client|setname:calls=1,usec=1\r\n',
    );
    expect(before).toEqual({ get: 10, info: 3 });
    expect(diffCommandStats(before, after, ADMIN_COMMANDS)).toEqual({ get: 15, evalsha: 7, 'client|setname': 1 });
  });

  it('rotates the order so no contender runs twice in a row', async () => {
    const { roundOrder } = await load('lib/runner.mjs');
    const ids = ['a', 'b', 'c', 'd'];
    const sequence = [0, 1, 2, 3, 4].flatMap((r) => roundOrder(ids, r));
    for (let i = 1; i < sequence.length; i++) expect(sequence[i]).not.toBe(sequence[i - 1]);
    expect(roundOrder(ids, 1)).toEqual(['b', 'c', 'd', 'a']);
  });

  it('summarizes rounds into medians, per-round ratios and target verdicts, and renders them', async () => {
    const { summarize, evaluateTargets } = await load('lib/analyze.mjs');
    const { renderScenario, renderSvg } = await load('lib/report.mjs');
    const rounds = (rps: number[]) => rps.map((r, round) => ({ round, rps: r, p50: 1, p99: 2, requests: r, commands: { get: r } }));
    const result = {
      id: 'demo',
      title: 'Demo <scenario>',
      env: { rounds: 3, duration: 1, warmup: 0, node: 'v20', redis: '7.0', machine: 'test' },
      contenders: [
        { id: 'floor', kind: 'floor', label: 'floor', status: 'ok', rounds: rounds([100, 200, 100]), calibration: { roundTripsPerRequest: 1, topLevelPerRequest: { get: 1 } } },
        { id: 'mine', kind: 'rediskit', label: 'mine', status: 'ok', rounds: rounds([95, 150, 96]), calibration: { roundTripsPerRequest: 1, topLevelPerRequest: { evalsha: 1 } } },
        { id: 'peer', kind: 'peer', label: 'peer', status: 'ok', rounds: rounds([90, 160, 99]) },
        { id: 'broken', kind: 'peer', label: 'broken', status: 'failed', error: 'cannot start', rounds: [] },
      ],
      targets: [{ contender: 'mine', label: 'mine vs floor', vs: 'floor', ratio: 0.9, roundTrips: 1 }],
    };
    summarize(result);
    const [target] = evaluateTargets(result);
    const mine = result.contenders[1] as any;
    expect(mine.summary.rps).toBe(96);
    expect(mine.summary.vsFloor.median).toBeCloseTo(0.95);
    expect(mine.summary.vsFloor.min).toBeCloseTo(0.75);
    expect(mine.summary.cmdsPerReq.total).toBeCloseTo(1);
    expect((result as any).bestPeer).toBe('peer');
    expect(target.met).toBe(true);
    const md = renderScenario(result);
    expect(md).toContain('## Demo <scenario>');
    expect(md).toContain('| mine |');
    expect(md).toContain('did not run: cannot start');
    expect(md).toMatch(/within the spread/);
    const svg = renderSvg(result);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Demo &lt;scenario&gt;');
    expect(svg.match(/<rect /g)).toHaveLength(4); // background + one bar per contender that ran
  });

  it('runs the floor and the ceiling of a scenario for real and writes the report', async () => {
    const { runBench } = await load('lib/bench.mjs');
    const { scenarios } = await load('scenarios/rate-limit.mjs');
    const base = scenarios.find((s: any) => s.id === 'rate-limit-10k');
    const scenario = {
      ...base,
      contenders: base.contenders.filter((c: any) => c.kind === 'floor' || c.kind === 'ceiling'),
      fill: { ...base.fill, count: 50 },
      targets: [],
    };
    const docsDir = mkdtempSync(join(tmpdir(), 'rediskit-bench-smoke-'));
    try {
      const [result] = await runBench([scenario], {
        rounds: 2,
        duration: 0.3,
        warmup: 0,
        engine: 'builtin', // autocannon is bench's own dependency, not installed by the root `npm ci`
        calibrationRequests: 20,
        command: 'smoke test',
        docsDir,
      });
      const floor = result.contenders.find((c: any) => c.id === 'floor');
      const ceiling = result.contenders.find((c: any) => c.id === 'ceiling');
      expect(floor.status).toBe('ok');
      expect(floor.rounds).toHaveLength(2);
      expect(floor.rounds.every((r: any) => r.requests > 0 && r.non2xx === 0 && r.errors === 0)).toBe(true);
      expect(floor.calibration.topLevelPerRequest).toEqual({ evalsha: 1 });
      expect(floor.summary.cmdsPerReq.per.evalsha).toBeCloseTo(1, 1);
      expect(floor.memory.keysPerItem).toBe(1);
      expect(ceiling.calibration.roundTripsPerRequest).toBe(0);
      expect(ceiling.summary.vsFloor.median).toBeGreaterThan(0);
      const md = readFileSync(join(docsDir, 'benchmarks.md'), 'utf8');
      expect(md).toContain('Rate-limited route, 10,000 random clients, Express');
      expect(md).toContain('floor: Express + one EVALSHA');
      expect(existsSync(join(docsDir, 'benchmarks', 'rate-limit-10k.svg'))).toBe(true);
    } finally {
      rmSync(docsDir, { recursive: true, force: true });
    }
  }, 60_000);
});
