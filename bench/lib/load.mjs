// The load generator process: autocannon for timed rounds, a small built-in
// keep-alive client for counted work (priming, filling, round-trip counts) and
// for the smoke test (which runs without bench's own dependencies).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { serve } from './procs.mjs';

/** Builds the per-request mutation a scenario asks for (random client keys, cookies, unique idempotency keys). */
export function makeVary(vary) {
  if (!vary) return () => ({});
  const run = randomBytes(4).toString('hex');
  let n = 0;
  switch (vary.kind) {
    case 'header-random':
      return () => ({ headers: { [vary.header]: `${vary.prefix ?? ''}${Math.floor(Math.random() * vary.count)}` } });
    case 'header-unique':
      return () => ({ headers: { [vary.header]: `${vary.prefix ?? ''}${run}-${n++}` } });
    case 'header-cycle':
      return () => ({ headers: { [vary.header]: vary.values[n++ % vary.values.length] } });
    case 'query-unique':
      return () => ({ query: `${vary.param}=${run}-${n++}` });
    default:
      throw new Error(`unknown vary kind ${vary.kind}`);
  }
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Applies one vary result to a request description. */
function apply(req, v) {
  const headers = { ...(req.headers ?? {}), ...(v.headers ?? {}) };
  const path = v.query ? `${req.path}${req.path.includes('?') ? '&' : '?'}${v.query}` : req.path;
  return { method: req.method ?? 'GET', path, headers, body: req.body };
}

/** Keep-alive HTTP load with `connections` requests in flight, for `amount` requests or `duration` s. */
export async function builtinLoad({ target, request, vary, connections = 8, amount, duration }) {
  const url = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const next = makeVary(vary);
  const latencies = [];
  const statusCodes = {};
  let errors = 0;
  let sent = 0;
  const start = performance.now();
  const until = duration ? start + duration * 1000 : Infinity;
  const one = () =>
    new Promise((resolve) => {
      const r = apply(request, next());
      const t0 = performance.now();
      const body = r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      const headers = { ...r.headers };
      if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
      const req = http.request({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers, agent }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          statusCodes[res.statusCode] = (statusCodes[res.statusCode] ?? 0) + 1;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while ((amount === undefined || sent < amount) && performance.now() < until) {
      sent++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const requests = latencies.length;
  const non2xx = Object.entries(statusCodes).reduce((s, [c, n]) => s + (c >= 200 && c < 300 ? 0 : n), 0);
  return { requests, seconds, rps: requests / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, non2xx, statusCodes };
}

/** A timed round through autocannon (imported lazily: only bench's own install has it). */
export async function autocannonLoad({ target, request, vary, connections = 32, duration, amount }) {
  const { default: autocannon } = await import('autocannon');
  const next = makeVary(vary);
  const statusCodes = {};
  const base = {
    method: request.method ?? 'GET',
    path: request.path,
    headers: request.headers ?? {},
    body: request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body),
  };
  const result = await new Promise((resolve, reject) => {
    const inst = autocannon(
      {
        url: target,
        connections,
        pipelining: 1,
        ...(amount ? { amount } : { duration }),
        timeout: 10,
        requests: [
          {
            ...base,
            setupRequest: (req) => {
              const r = apply(base, next());
              return { ...req, path: r.path, headers: { ...req.headers, ...r.headers } };
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    inst.on('response', (_client, status) => {
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
    });
  });
  const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    requests,
    seconds: result.duration,
    rps: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
  };
}
