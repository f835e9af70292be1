import { rateLimit } from '@rediskit/express';
import type { RedisKit } from '@rediskit/core';
import type { DemoFeature } from './types';

const MINUTE = 60_000;

/** Allowed / limited counts per limiter (route), from the rate-limit events. */
const counts = new WeakMap<RedisKit, Record<string, { allowed: number; limited: number }>>();

function track(kit: RedisKit): void {
  const byLimiter: Record<string, { allowed: number; limited: number }> = {};
  counts.set(kit, byLimiter);
  const entry = (name: string) => (byLimiter[name] ??= { allowed: 0, limited: 0 });
  kit.events.on('ratelimit:allowed', (e) => entry(e.limiter).allowed++);
  kit.events.on('ratelimit:limited', (e) => entry(e.limiter).limited++);
}

/** Per-route rate limits: a sign-in form limited per IP and per username, an API route on a token bucket. */
export const rateLimitFeature: DemoFeature = {
  name: 'Rate limiting',
  routes: [
    {
      method: 'POST',
      path: '/signin',
      description: 'A sign-in form limited by two policies decided together: 10 per minute per IP, 3 per 5 minutes per username (then a 1-minute block)',
      curl: `curl -si -X POST localhost:$PORT/signin -H 'content-type: application/json' -d '{"username":"alice"}'`,
    },
    {
      method: 'GET',
      path: '/api/items/:id',
      description: 'Token bucket: bursts of 5, refilled at 1 per second; watch RateLimit and Retry-After',
      curl: 'for i in 1 2 3 4 5 6 7; do curl -s -o /dev/null -w "%{http_code} " localhost:$PORT/api/items/$i; done; echo',
    },
  ],
  mount(app, kit) {
    track(kit);
    app.post(
      '/signin',
      rateLimit({
        policies: [
          { name: 'per-ip', algorithm: 'sliding-window', limit: 10, window: MINUTE },
          {
            name: 'per-user',
            algorithm: 'fixed-window',
            limit: 3,
            window: 5 * MINUTE,
            blockDuration: MINUTE,
            key: (req) => (typeof req.body?.username === 'string' ? req.body.username.toLowerCase() : undefined),
          },
        ],
      }),
      (req, res) => {
        res.json({ welcome: req.body?.username ?? 'anonymous' });
      },
    );
    app.get('/api/items/:id', rateLimit({ algorithm: 'token-bucket', limit: 1, window: 1000, burst: 5 }), (req, res) => {
      res.json({ id: req.params.id, name: `item ${req.params.id}` });
    });
  },
  async panel(kit) {
    return { ...(counts.get(kit) ?? {}) };
  },
};
