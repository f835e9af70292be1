// One contender in its own process: `node host.mjs <scenario module> <contender id> <redis url> <params json>`.
// HTTP contenders get a server on a free loopback port; lock contenders run
// their acquire/release loop when asked. The harness talks to it over IPC.
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { serve } from './procs.mjs';

const [modulePath, contenderId, redisUrl, paramsJson] = process.argv.slice(2);
const params = JSON.parse(paramsJson || '{}');
const stats = { origin: 0 };
let started;
let server;

async function load() {
  const mod = await import(pathToFileURL(modulePath).href);
  const contender = mod.contenders?.[contenderId];
  if (!contender) throw new Error(`no contender "${contenderId}" in ${modulePath}`);
  return contender;
}

serve({
  async start() {
    const contender = await load();
    started = await contender.start({ redisUrl, params, stats });
    if (started.listener) {
      server = http.createServer((req, res) => {
        if (req.url === '/__bench/stats') {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(stats));
          return;
        }
        started.listener(req, res);
      });
      server.keepAliveTimeout = 60_000;
      server.headersTimeout = 61_000;
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      return { port: server.address().port, info: started.info };
    }
    return { info: started.info };
  },
  stats: () => ({ ...stats }),
  // CPU time this process has used so far (bench/cpu.mjs: CPU per request, not requests/s).
  cpu: () => process.cpuUsage(),
  // Lock contenders: run the loop for `durationMs`, report operations, latencies and violations.
  async run(msg) {
    return started.run(msg);
  },
  // Scenario-specific setup that must happen inside the contender (e.g. seeding).
  async prepare(msg) {
    return started.prepare ? started.prepare(msg) : undefined;
  },
  async exit() {
    await Promise.race([
      (async () => {
        if (server) {
          const closed = new Promise((r) => server.close(r));
          server.closeAllConnections();
          await closed;
        }
        await started?.close?.();
      })(),
      new Promise((r) => setTimeout(r, 2000)),
    ]);
  },
});
