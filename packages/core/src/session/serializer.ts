/**
 * Turns session data into the text stored in Redis and back. Any object with
 * `stringify` and `parse` fits (connect-redis serializers do).
 *
 * @example
 * // keep Dates in session data as Dates
 * const serializer: SessionSerializer = {
 *   stringify: (v) => JSON.stringify(v, (k, x) => (x instanceof Date ? { $date: x.toISOString() } : x)),
 *   parse: (t) => JSON.parse(t, (k, x) => (x && typeof x.$date === 'string' ? new Date(x.$date) : x)),
 * };
 */
export interface SessionSerializer {
  stringify(value: unknown): string;
  parse(text: string): unknown;
}

/**
 * The default: plain JSON, the format express-session's MemoryStore and connect-redis use.
 *
 * @example
 * new RedisSessionStore(kit, { serializer: jsonSerializer });
 */
export const jsonSerializer: SessionSerializer = Object.freeze({
  stringify: (value: unknown) => JSON.stringify(value),
  parse: (text: string) => JSON.parse(text) as unknown,
});

const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

/**
 * Removes `__proto__`, `constructor` and `prototype` own keys at any depth,
 * so stored data cannot reach a prototype through code that merges or
 * assigns it later (koa-session assigns each key with Reflect.set, which
 * would call the `__proto__` setter). Runs after every serializer.
 *
 * @example
 * stripPrototypeKeys(JSON.parse('{"a":1,"__proto__":{"admin":true}}')); // { a: 1 }
 */
export function stripPrototypeKeys<T>(value: T): T {
  const stack: unknown[] = [value];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object' || seen.has(node)) continue;
    seen.add(node);
    if (node instanceof Date || ArrayBuffer.isView(node)) continue;
    for (const key of FORBIDDEN) {
      if (Object.prototype.hasOwnProperty.call(node, key)) delete (node as Record<string, unknown>)[key];
    }
    for (const child of Object.values(node as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return value;
}

/** True for `{}`-like objects (not arrays, dates, class instances with odd prototypes are fine). */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
