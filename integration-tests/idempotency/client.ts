import type { RedisKit, RedisKitEventMap, RedisKitEventName } from '@rediskit/core';
import { randomUUID } from 'node:crypto';
import request from 'supertest';

/** A response with its exact body bytes. */
export interface Sent {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json(): any;
}

export interface SendOptions {
  /** One header value, several header lines, or none (`null`). */
  key?: string | string[] | null;
  body?: unknown;
  /** Body bytes sent as is, with `contentType`. */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
  method?: 'post' | 'get' | 'put' | 'patch' | 'delete';
  /** Fail the request (reject) if no response arrives within this many ms. */
  timeout?: number;
}

export function newKey(): string {
  return randomUUID();
}

/** Sends one request and resolves with the exact body bytes. */
export async function send(url: string, path: string, options: SendOptions = {}): Promise<Sent> {
  let r = request(url)[options.method ?? 'post'](path);
  const key = options.key;
  if (typeof key === 'string') r = r.set('Idempotency-Key', key);
  // An array goes out as one header line per value.
  else if (Array.isArray(key)) r = r.set('Idempotency-Key', key as unknown as string);
  for (const [n, v] of Object.entries(options.headers ?? {})) r = r.set(n, v);
  if (options.raw !== undefined) r = r.set('content-type', options.contentType ?? 'application/json').send(options.raw);
  else if (options.body !== undefined) r = r.send(options.body as object);
  if (options.timeout !== undefined) r = r.timeout(options.timeout);
  const res = await r.buffer(true).parse((stream, cb) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => cb(null, Buffer.concat(parts)));
  });
  const body = Buffer.isBuffer(res.body) ? res.body : Buffer.alloc(0);
  return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) };
}

/** Counts events of a context until `stop()`. */
export function recordEvents(kit: RedisKit) {
  const seen: Array<{ name: RedisKitEventName; payload: any }> = [];
  const stop = kit.events.onAny((name, payload) => seen.push({ name, payload }));
  return {
    seen,
    stop,
    count<K extends RedisKitEventName>(name: K, where: (p: RedisKitEventMap[K]) => boolean = () => true): number {
      return seen.filter((e) => e.name === name && where(e.payload)).length;
    },
  };
}
