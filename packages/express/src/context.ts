import type { RedisKit } from '@rediskit/core';
import { RedisKitError } from '@rediskit/core';
import type { Application, Request } from 'express';

const KEY = 'rediskit';

/**
 * Makes `kit` the app's rediskit context: handlers reach it with
 * {@link getRedisKit}, and rediskit middleware created without an explicit
 * context uses it.
 *
 * @example
 * const kit = createRedisKit({ url: process.env.REDIS_URL });
 * const app = express();
 * attachRedisKit(app, kit);
 * app.get('/visits', async (req, res) => {
 *   const n = await getRedisKit(req).exec((r) => r.incr(getRedisKit(req).keys.key('visits')));
 *   res.json({ n });
 * });
 */
export function attachRedisKit(app: Application, kit: RedisKit): Application {
  app.locals[KEY] = kit;
  return app;
}

/** The context attached to the request's app; throws ERR_REDISKIT_NO_CONNECTION if none. */
export function getRedisKit(req: Request): RedisKit {
  const kit = (req.app?.locals?.[KEY] as RedisKit | undefined) ?? undefined;
  if (!kit) {
    throw new RedisKitError(
      'ERR_REDISKIT_NO_CONNECTION',
      'no rediskit context on this Express app; call attachRedisKit(app, kit) first',
    );
  }
  return kit;
}
