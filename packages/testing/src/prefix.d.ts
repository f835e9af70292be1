/**
 * A key prefix no other test (in this or a parallel worker) uses, so tests
 * share one Redis without FLUSHALL.
 *
 * @example
 * const kit = createRedisKit({ url, prefix: uniquePrefix('cache') });
 */
export declare function uniquePrefix(label?: string): string;
