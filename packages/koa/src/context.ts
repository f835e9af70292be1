import type { RedisKit } from '@rediskit/core';
import { RedisKitError } from '@rediskit/core';
import type Koa from 'koa';

declare module 'koa' {
  interface DefaultContext {
    /** The rediskit context attached with attachRedisKit(). */
    rediskit?: RedisKit;
  }
}

/**
 * Makes `kit` the app's rediskit context: every `ctx.rediskit` is it, and
 * rediskit middleware created without an explicit context uses it.
 *
 * @example
 * const app = new Koa();
 * attachRedisKit(app, createRedisKit({ url: process.env.REDIS_URL }));
 * app.use(async (ctx) => { ctx.body = await ctx.rediskit!.time(); });
 */
export function attachRedisKit<A extends Koa<any, any>>(app: A, kit: RedisKit): A {
  (app.context as { rediskit?: RedisKit }).rediskit = kit;
  return app;
}

/** The context attached to the app; throws ERR_REDISKIT_NO_CONNECTION if none. */
export function getRedisKit(ctx: Koa.Context | { rediskit?: RedisKit }): RedisKit {
  const kit = (ctx as { rediskit?: RedisKit }).rediskit;
  if (!kit) {
    throw new RedisKitError(
      'ERR_REDISKIT_NO_CONNECTION',
      'no rediskit context on this Koa app; call attachRedisKit(app, kit) first',
    );
  }
  return kit;
}
