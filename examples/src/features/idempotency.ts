import { randomUUID } from 'node:crypto';
import { idempotency } from '@rediskit/express';
import type { DemoFeature } from './types';

const counts = { created: 0, replayed: 0, conflict: 0, mismatch: 0, rejected: 0, released: 0 };

/** POST /orders behind a required Idempotency-Key; the panel counts what duplicates got. */
export const idempotencyFeature: DemoFeature = {
  name: 'Idempotency keys',
  routes: [
    {
      method: 'POST',
      path: '/orders',
      description:
        'Creates an order once per Idempotency-Key (required). Takes 1 s, so a duplicate sent meanwhile gets 409; a retry afterwards replays the same 201 with Idempotent-Replayed: true; the key with another body gets 422',
      curl: `curl -si -X POST localhost:$PORT/orders -H 'Idempotency-Key: "order-demo-0001"' -H 'content-type: application/json' -d '{"sku":"book","qty":1}'`,
    },
  ],
  mount(app, kit) {
    kit.events.on('idempotency:completed', () => counts.created++);
    kit.events.on('idempotency:replayed', () => counts.replayed++);
    kit.events.on('idempotency:conflict', () => counts.conflict++);
    kit.events.on('idempotency:mismatch', () => counts.mismatch++);
    kit.events.on('idempotency:rejected', () => counts.rejected++);
    kit.events.on('idempotency:released', () => counts.released++);
    app.post('/orders', idempotency({ required: true }), async (req, res) => {
      const body = (req.body ?? {}) as { sku?: unknown; qty?: unknown };
      if (typeof body.sku !== 'string') {
        // A 4xx from the handler is stored too: the retry gets the same answer.
        res.status(400).json({ error: 'sku (a string) is required' });
        return;
      }
      await new Promise((r) => setTimeout(r, 1000)); // stands in for charging a card
      const id = randomUUID().slice(0, 8);
      res
        .status(201)
        .location(`/orders/${id}`)
        .json({ id, sku: body.sku, qty: Number(body.qty ?? 1), createdAt: new Date().toISOString() });
    });
  },
  async panel() {
    return { ...counts };
  },
};
