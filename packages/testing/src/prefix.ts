import { randomBytes } from 'node:crypto';

let counter = 0;

/**
 * A key prefix no other test (in this or a parallel worker) uses, so tests
 * share one Redis without FLUSHALL.
 *
 * @example
 * const kit = createRedisKit({ url, prefix: uniquePrefix('cache') });
 */
export function uniquePrefix(label = 't'): string {
  counter++;
  const safe = label.replace(/[^A-Za-z0-9_-]/g, '-');
  return `${safe}-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`;
}
