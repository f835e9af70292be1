/** Events of the cache engine, emitted on the context's `events`. Names are `'cache:<event>'`. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface CacheEvents {}
