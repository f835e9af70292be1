export { Cacheable, NoCache, CacheTags, InvalidateTags, type NestCacheOptions, type TagSource } from './cache.decorators';
export { CacheInterceptor } from './cache.interceptor';
export { CacheService } from './cache.service';
export { RedisKitCacheModule } from './cache.module';
