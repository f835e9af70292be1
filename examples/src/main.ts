import { createRedisKit } from '@rediskit/core';
import { attachRedisKit } from '@rediskit/express';
import { startRedis } from '@rediskit/testing';
import express from 'express';
import { features } from './features';
import { homePage } from './home-page';

async function main(): Promise<void> {
  let redisUrl = process.env.REDIS_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!redisUrl) {
    const embedded = await startRedis();
    redisUrl = embedded.url;
    stopEmbedded = () => embedded.stop();
    console.log(`Started an embedded Redis at ${redisUrl} (set REDIS_URL to use your own).`);
  }
  const kit = createRedisKit({ url: redisUrl, prefix: process.env.REDISKIT_PREFIX ?? 'demo' });
  await kit.ready();

  const counters: Record<string, number> = {};
  kit.events.onAny((name) => {
    counters[name] = (counters[name] ?? 0) + 1;
  });

  const app = express();
  app.set('trust proxy', false);
  app.use(express.json());
  attachRedisKit(app, kit);
  const port = Number(process.env.PORT ?? 3000);

  app.get('/', (_req, res) => {
    res.type('html').send(homePage(features, port));
  });
  app.get('/demo/stats', async (_req, res) => {
    const panels: Record<string, Record<string, unknown>> = {};
    for (const f of features) {
      if (!f.panel) continue;
      try {
        panels[f.name] = await f.panel(kit);
      } catch (error) {
        panels[f.name] = { error: (error as { code?: string }).code ?? String(error) };
      }
    }
    res.set('cache-control', 'no-store').json({ state: kit.state, redis: redisUrl, counters, panels });
  });
  for (const feature of features) await feature.mount(app, kit);

  const server = app.listen(port, () => {
    console.log(`rediskit demo on http://localhost:${port}`);
    console.log('Try:');
    for (const f of features) for (const r of f.routes) console.log(`  ${r.curl.replaceAll('$PORT', String(port))}`);
  });

  const shutdown = async () => {
    server.close();
    await kit.close();
    await stopEmbedded?.();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
