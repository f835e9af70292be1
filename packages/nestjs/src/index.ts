export { RedisKitModule } from './rediskit.module';
export {
  REDISKIT_MODULE_OPTIONS,
  REDISKIT_MODULE_OPTIONS_TYPE,
  REDISKIT_MODULE_ASYNC_OPTIONS_TYPE,
  type RedisKitModuleOptions,
} from './rediskit.module-definition';
export { REDISKIT, REDISKIT_OPTIONS } from './rediskit.constants';
export { InjectRedisKit } from './inject-rediskit.decorator';
export { LockService } from './lock';
export { StructuresService } from './structures';
export { Idempotent, IDEMPOTENT, IdempotencyInterceptor, type NestIdempotencyOptions } from './idempotency';
export * from './rate-limit';
export {
  Cacheable,
  NoCache,
  CacheTags,
  InvalidateTags,
  CacheInterceptor,
  CacheService,
  RedisKitCacheModule,
  type NestCacheOptions,
  type TagSource,
} from './cache';
export { RedisSessionService } from './session';
export { RedisKitWorkersShutdown } from './streams';
