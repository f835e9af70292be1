import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

let cached: Promise<string> | undefined;

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Path of the `redis-server` binary to run: `REDISKIT_REDIS_SERVER` if set,
 * else the one on PATH (or /usr/bin, /usr/local/bin), else the one
 * redis-memory-server provides (which may download and compile Redis once).
 */
export function redisServerBinary(): Promise<string> {
  cached ??= (async () => {
    const fromEnv = process.env.REDISKIT_REDIS_SERVER;
    if (fromEnv) return fromEnv;
    const found =
      onPath('redis-server') ??
      ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => {
        try {
          accessSync(p, constants.X_OK);
          return true;
        } catch {
          return false;
        }
      });
    if (found) return found;
    try {
      const mod = (await import('redis-memory-server')) as unknown as {
        RedisBinary: { getPath(opts?: object): Promise<string> };
      };
      return await mod.RedisBinary.getPath();
    } catch (error) {
      throw new Error(
        `@rediskit/testing: no redis-server found on PATH and redis-memory-server could not provide one (${String(error)}). ` +
          'Install Redis (apt-get install redis-server) or set REDISKIT_REDIS_SERVER.',
      );
    }
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}
