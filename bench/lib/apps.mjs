// Building blocks the contenders share, so every contender of a scenario runs
// the same framework, the same handler and the same bytes.
import { createHash } from 'node:crypto';

/** Deterministic printable bytes of exactly `size` (no run of one character a compressor would love). */
export function makeBody(size) {
  const chunks = [];
  let n = 0;
  let seed = 'rediskit-bench';
  while (n < size) {
    seed = createHash('sha256').update(seed).digest('base64');
    chunks.push(seed);
    n += seed.length;
  }
  return Buffer.from(chunks.join('').slice(0, size));
}

/** Express with nothing on: no ETag hashing, no x-powered-by; the same for every contender. */
export async function expressApp() {
  const { default: express } = await import('express');
  const app = express();
  app.set('etag', false);
  app.set('x-powered-by', false);
  return { app, express };
}

/** The client key of the rate-limit scenarios: a header, so one load process can be 10,000 clients. */
export const clientKey = (req) => req.headers['x-client'] ?? 'anonymous';

/**
 * A Nest app on Express from plain JS (no decorator syntax): routes are
 * `{ method: 'Get' | 'Post', path, handler, decorators?: [...], params?: [...] }`.
 * Returns the Express instance as a request listener.
 */
export async function nestListener({ imports = [], providers = [], routes, controllerDecorators = [] }) {
  await import('reflect-metadata');
  const common = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  class BenchController {}
  routes.forEach((route, i) => {
    const name = `route${i}`;
    BenchController.prototype[name] = function (...args) {
      return route.handler(...args);
    };
    const descriptor = Object.getOwnPropertyDescriptor(BenchController.prototype, name);
    Reflect.defineMetadata('design:paramtypes', (route.params ?? []).map(() => Object), BenchController.prototype, name);
    (route.params ?? []).forEach((decorate, index) => decorate(BenchController.prototype, name, index));
    const decorators = [common[route.method](route.path), ...(route.decorators ?? [])];
    if (route.status) decorators.push(common.HttpCode(route.status));
    for (const decorate of decorators.reverse()) {
      const next = decorate(BenchController.prototype, name, descriptor);
      if (next) Object.defineProperty(BenchController.prototype, name, next);
    }
  });
  common.Controller()(BenchController);
  for (const d of controllerDecorators) d(BenchController);
  class BenchModule {}
  common.Module({ imports, providers, controllers: [BenchController] })(BenchModule);
  const app = await NestFactory.create(BenchModule, { logger: ['error'] });
  const instance = app.getHttpAdapter().getInstance();
  instance.set('etag', false);
  instance.set('x-powered-by', false);
  await app.init();
  return { listener: instance, app, close: () => app.close() };
}

/** ioredis from the root install (the copy rediskit uses), not a peer's nested one. */
export async function ioredis(url, options = {}) {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1, ...options });
  await new Promise((resolve, reject) => {
    if (client.status === 'ready') return resolve();
    client.once('ready', resolve);
    client.once('error', reject);
  });
  return client;
}
