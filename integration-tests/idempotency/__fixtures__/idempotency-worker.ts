import { createRedisKit } from '@rediskit/core';
import { attachRedisKit, idempotency } from '@rediskit/express';
import express from 'express';

// Fixture for killed-worker.test.ts: an app whose POST /orders claims its key
// (lease 1 s, renewed while it runs), tells the test it started, and never
// answers, so the test can kill the process with the key in progress.
const input = JSON.parse(process.argv[2]!) as { url: string; prefix: string };
const kit = createRedisKit({ url: input.url, prefix: input.prefix, logger: false, operationTimeout: 1000 });
const app = express();
app.use(express.json());
attachRedisKit(app, kit);
app.post('/orders', idempotency({ required: true, lease: 1000 }), () => {
  process.send!({ started: true });
});
void kit.ready().then(() => {
  const server = app.listen(0, '127.0.0.1', () => {
    process.send!({ port: (server.address() as { port: number }).port });
  });
});
