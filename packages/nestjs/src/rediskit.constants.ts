/** Injection token of the {@link RedisKit} context. */
export const REDISKIT = Symbol.for('rediskit:context');
/** Injection token of the resolved module options (feature defaults). */
export const REDISKIT_OPTIONS = Symbol.for('rediskit:options');
