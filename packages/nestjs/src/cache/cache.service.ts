import { Inject, Injectable } from '@nestjs/common';
import type { CacheValueOptions, RedisCache, RedisKit } from '@rediskit/core';
import { REDISKIT, REDISKIT_OPTIONS } from '../rediskit.constants';
import type { RedisKitModuleOptions } from '../rediskit.module-definition';
import { engineFor } from './cache.engine';

/**
 * Purge and cache-aside for Nest services: the context's cache engine.
 *
 * @example
 * @Injectable()
 * export class ProductsService {
 *   constructor(private readonly cache: CacheService) {}
 *   find(id: string) {
 *     return this.cache.wrap(`product:${id}`, () => this.repo.find(id), { ttl: 60_000, tags: [`product:${id}`] });
 *   }
 *   async update(id: string, dto: UpdateProduct) {
 *     await this.repo.update(id, dto);
 *     await this.cache.purgeTags([`product:${id}`, 'products']);
 *   }
 * }
 */
@Injectable()
export class CacheService {
  /** The engine itself. */
  readonly engine: RedisCache;

  constructor(@Inject(REDISKIT) kit: RedisKit, @Inject(REDISKIT_OPTIONS) options: RedisKitModuleOptions) {
    this.engine = engineFor(kit, options?.cache);
  }

  /** See {@link RedisCache.purgeTags}: rejects when Redis fails. */
  purgeTags(tags: string | readonly string[], options?: { soft?: boolean }): Promise<void> {
    return this.engine.purgeTags(tags, options);
  }

  /** Purges the stored GET of one URL. */
  purgeUrl(url: string, options?: { host?: string; soft?: boolean }): Promise<void> {
    return this.engine.purgeUrl(url, options);
  }

  /** See {@link RedisCache.wrap}. */
  wrap<T>(key: string, fn: () => T | Promise<T>, options?: CacheValueOptions): Promise<T> {
    return this.engine.wrap(key, fn, options);
  }

  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.engine.get<T>(key);
  }

  set(key: string, value: unknown, options?: CacheValueOptions): Promise<boolean> {
    return this.engine.set(key, value, options);
  }

  delete(key: string): Promise<void> {
    return this.engine.delete(key);
  }
}
