import { Global, Module } from '@nestjs/common';
import { CacheInterceptor } from './cache.interceptor';
import { CacheService } from './cache.service';

/**
 * Provides {@link CacheService} (and the interceptor) app-wide. Import it
 * beside `RedisKitModule.forRoot()`.
 *
 * @example
 * @Module({ imports: [RedisKitModule.forRoot({ kit, cache: { defaults: { ttl: 30_000 } } }), RedisKitCacheModule] })
 * export class AppModule {}
 */
@Global()
@Module({ providers: [CacheService, CacheInterceptor], exports: [CacheService, CacheInterceptor] })
export class RedisKitCacheModule {}
