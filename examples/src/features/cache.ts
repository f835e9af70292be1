import type { RedisKit } from '@rediskit/core';
import { cache, purgeTags } from '@rediskit/express';
import express from 'express';
import type { DemoFeature } from './types';

interface Product {
  id: string;
  name: string;
  price: number;
  updatedAt: string;
}

// The "database": slow on purpose, so a hit is visibly faster than a miss.
const products = new Map<string, Product>(
  [
    ['1', 'Desk lamp', 39],
    ['2', 'Office chair', 189],
    ['3', 'Standing desk', 449],
  ].map(([id, name, price]) => [String(id), { id: String(id), name: String(name), price: Number(price), updatedAt: new Date().toISOString() }]),
);
const slowQuery = () => new Promise((r) => setTimeout(r, 150));

const counts = { hit: 0, miss: 0, stale: 0, purge: 0, store: 0, coalesced: 0, bypass: 0, error: 0 };

/** The product catalog: cached GETs tagged `product:<id>` and `products`, purged by PUT. */
export const cacheFeature: DemoFeature = {
  name: 'HTTP cache',
  routes: [
    {
      method: 'GET',
      path: '/products',
      description: 'Product list, cached 30 s (stale-while-revalidate 60 s), tagged products',
      curl: 'curl -si localhost:$PORT/products | grep -iE "cache-status|age|^\\[|^{"',
    },
    {
      method: 'GET',
      path: '/products/:id',
      description: 'One product, cached 60 s, tagged product:<id> and products',
      curl: 'curl -si localhost:$PORT/products/1 | grep -iE "cache-status|age"',
    },
    {
      method: 'PUT',
      path: '/products/:id',
      description: 'Update a product: purges product:<id> and products on every instance',
      curl: "curl -s -X PUT -H 'content-type: application/json' -d '{\"price\": 42}' localhost:$PORT/products/1",
    },
  ],
  mount(app, kit: RedisKit) {
    kit.events.on('cache:hit', () => counts.hit++);
    kit.events.on('cache:miss', () => counts.miss++);
    kit.events.on('cache:stale', () => counts.stale++);
    kit.events.on('cache:purge', () => counts.purge++);
    kit.events.on('cache:store', () => counts.store++);
    kit.events.on('cache:coalesced', () => counts.coalesced++);
    kit.events.on('cache:bypass', () => counts.bypass++);
    kit.events.on('cache:error', () => counts.error++);

    app.get('/products', cache({ ttl: 30_000, staleWhileRevalidate: 60_000, tags: ['products'] }), async (_req, res) => {
      await slowQuery();
      res.json([...products.values()]);
    });
    app.get(
      '/products/:id',
      cache({ ttl: 60_000, tags: (req) => [`product:${req.params.id}`, 'products'] }),
      async (req, res) => {
        await slowQuery();
        const p = products.get(String(req.params.id));
        if (!p) {
          res.status(404).set('cache-control', 'max-age=10').json({ error: 'no such product' });
          return;
        }
        res.json(p);
      },
    );
    app.put('/products/:id', express.json(), async (req, res) => {
      const id = String(req.params.id);
      const p = products.get(id);
      const price = (req.body as { price?: unknown })?.price;
      if (!p) {
        res.status(404).type('application/problem+json').json({ type: 'about:blank', title: 'Not Found', status: 404 });
        return;
      }
      if (typeof price !== 'number' || !Number.isFinite(price) || price < 0) {
        res
          .status(400)
          .type('application/problem+json')
          .json({ type: 'https://rediskit.dev/problems/bad-request', title: 'Bad Request', status: 400, detail: 'price must be a number >= 0' });
        return;
      }
      const updated = { ...p, price, updatedAt: new Date().toISOString() };
      products.set(id, updated);
      try {
        await purgeTags(req, [`product:${id}`, 'products']);
        res.json({ product: updated, purged: [`product:${id}`, 'products'] });
      } catch (error) {
        // Stored, but the cache may still serve the old price: say so.
        res.status(503).json({ product: updated, purged: false, error: (error as { code?: string }).code });
      }
    });
  },
  async panel() {
    return { ...counts };
  },
};
