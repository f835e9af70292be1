import type { RedisKit } from '@rediskit/core';
import type { Express } from 'express';

/** A route the demo lists on its home page, with a curl line to try it. */
export interface DemoRoute {
  method: string;
  path: string;
  description: string;
  curl: string;
}

/**
 * One feature's part of the demo: its routes, mounted on the Express app, and
 * optionally a live panel (HTML) for the home page.
 */
export interface DemoFeature {
  name: string;
  routes: DemoRoute[];
  mount(app: Express, kit: RedisKit): void | Promise<void>;
  /** Extra live numbers for the home page, read on each refresh. */
  panel?(kit: RedisKit): Promise<Record<string, unknown>>;
}
