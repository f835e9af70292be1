import { getRedisKit } from '@rediskit/express';
import type { DemoFeature } from './types';

/** The context itself: health and server time. */
export const coreFeature: DemoFeature = {
  name: 'Context',
  routes: [
    {
      method: 'GET',
      path: '/health',
      description: 'Context state and Redis server time (fails fast when Redis is down)',
      curl: 'curl -s localhost:$PORT/health',
    },
  ],
  mount(app) {
    app.get('/health', async (req, res) => {
      const kit = getRedisKit(req);
      try {
        res.json({ state: kit.state, redisTime: new Date(await kit.time()).toISOString() });
      } catch (error) {
        res.status(503).json({ state: kit.state, error: (error as { code?: string }).code });
      }
    });
  },
};
