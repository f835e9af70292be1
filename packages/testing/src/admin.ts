import { Redis } from 'ioredis';

/** A short-lived admin connection that does not retry forever. */
export function adminClient(host: string, port: number): Redis {
  return new Redis({ host, port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: true });
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`@rediskit/testing: timed out waiting for ${what}${lastError ? ` (${String(lastError)})` : ''}`);
}
