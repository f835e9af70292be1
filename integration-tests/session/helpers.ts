import type { RedisKit, RedisKitEventMap, SessionEngine } from '@rediskit/core';
import type { Response } from 'supertest';

/** The `name=value` pairs a response sets, as one Cookie header (signature cookies included). */
export function cookieHeader(res: Response): string {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return (raw ?? [])
    .map((c) => c.split(';')[0]!)
    .filter((pair) => !pair.endsWith('='))
    .join('; ');
}

/** True when the response sets the named cookie to a non-empty value. */
export function setsCookie(res: Response, name: string): boolean {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return (raw ?? []).some((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`));
}

/** Records the payloads of one event. */
export function record<K extends keyof RedisKitEventMap>(kit: RedisKit, name: K): Array<RedisKitEventMap[K]> {
  const seen: Array<RedisKitEventMap[K]> = [];
  kit.events.on(name, (p) => seen.push(p));
  return seen;
}

/** The Redis key of a session (namespace `sess`). */
export function sessionKey(engine: SessionEngine, id: string): string {
  return engine.kit.keys.entity(engine.options.namespace, id).key();
}
