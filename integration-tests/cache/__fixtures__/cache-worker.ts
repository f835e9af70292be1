import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRedisKit } from '@rediskit/core';
import { attachRedisKit, cache } from '@rediskit/express';
import express from 'express';

// An app instance in its own process for the stampede tests. `mode`:
//   hang  - the origin never answers (the test kills this process mid-fill)
//   count - the origin counts its calls in Redis and answers after `delay` ms
const input = JSON.parse(process.argv[2]!) as { url: string; prefix: string; mode: 'hang' | 'count'; delay?: number };
const kit = createRedisKit({ url: input.url, prefix: input.prefix, operationTimeout: 2000, logger: false });
const app = express();
attachRedisKit(app, kit);
app.get('/stampede', cache({ ttl: 60_000 }), async (_req, res) => {
  if (input.mode === 'hang') {
    process.send!({ entered: true });
    return;
  }
  const n = await kit.exec((r) => r.incr(kit.keys.key('origin-calls')));
  await new Promise((r) => setTimeout(r, input.delay ?? 0));
  res.json({ n, pid: process.pid });
});
void (async () => {
  await kit.ready();
  const server = createServer(app).listen(0, '127.0.0.1', () => {
    process.send!({ port: (server.address() as AddressInfo).port });
  });
  process.on('message', (m: { stop?: boolean }) => {
    if (m.stop) {
      server.close();
      void kit.close().then(() => process.exit(0));
    }
  });
})();
