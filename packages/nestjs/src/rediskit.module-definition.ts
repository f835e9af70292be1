import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RedisKit, RedisKitOptions } from '@rediskit/core';
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
  /** Defaults for `@Cacheable()` routes. */
  cache?: Record<string, unknown>;
  /** Defaults for `@RateLimit()` routes. */
  rateLimit?: Record<string, unknown>;
  /** Defaults for `@Idempotent()` routes. */
  idempotency?: Record<string, unknown>;
  /** Options of the session service. */
  session?: Record<string, unknown>;
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
