import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RedisKit, RedisKitOptions } from '@rediskit/core';
// Feature option types, one import each.
import type { CacheOptions } from '@rediskit/core';
import type { HttpRateLimitOptions } from '@rediskit/core';
import type { IdempotencyOptions } from '@rediskit/core';
import type { LockManagerOptions } from '@rediskit/core';
import type { SessionOptions } from '@rediskit/core';
import type { StreamOptions, TaskQueueOptions } from '@rediskit/core';

/**
 * Options of `RedisKitModule.forRoot()` / `forRootAsync()`: either an
 * existing `kit` (you close it) or `connection` options to create one (the
 * module closes it on shutdown), plus module-wide defaults per feature.
 */
export interface RedisKitModuleOptions {
  /** A context the app already created. */
  kit?: RedisKit;
  /** Options for `createRedisKit()`, when the module should create the context. */
  connection?: RedisKitOptions;
  /** Options of the cache engine, with defaults for `@Cacheable()` routes in `defaults`. */
  cache?: CacheOptions;
  /** Defaults for `@RateLimit()` routes (and every route under a global RateLimitGuard, when they name policies). */
  rateLimit?: HttpRateLimitOptions<any>;
  /** Defaults for `@Idempotent()` routes (validated at startup; `principal` gets the Express request). */
  idempotency?: IdempotencyOptions<any>;
  /** Options of `RedisSessionService` (ttl, absoluteLifetime, userId, encryption, ...). */
  session?: SessionOptions;
  /** Defaults of the injectable `LockService` (ttl, timeout, retry, ...). */
  lock?: LockManagerOptions;
  /** Defaults of the injected `Streams` (stream options: maxLen, maxAge, ...). */
  streams?: StreamOptions;
  /** Defaults of the injected `Tasks` (queue options: maxAttempts, backoff, ...). */
  tasks?: TaskQueueOptions;
}

export const {
  ConfigurableModuleClass: RedisKitConfigurableModule,
  MODULE_OPTIONS_TOKEN: REDISKIT_MODULE_OPTIONS,
  OPTIONS_TYPE: REDISKIT_MODULE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: REDISKIT_MODULE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisKitModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
