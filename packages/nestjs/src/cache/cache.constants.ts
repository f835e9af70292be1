/** Metadata key of `@Cacheable()` / `@NoCache()`. */
export const CACHEABLE = Symbol.for('rediskit:cache:cacheable');
/** Metadata key of `@CacheTags()`. */
export const CACHE_TAGS = Symbol.for('rediskit:cache:tags');
/** Metadata key of `@InvalidateTags()`. */
export const INVALIDATE_TAGS = Symbol.for('rediskit:cache:invalidate');
