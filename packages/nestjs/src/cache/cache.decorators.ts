import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { HttpCache, type CacheRouteOptions } from '@rediskit/core';
import type { Request } from 'express';
import { CACHE_TAGS, CACHEABLE, INVALIDATE_TAGS } from './cache.constants';
import { CacheInterceptor } from './cache.interceptor';

/** Options of `@Cacheable()`: the route's cache options; functions receive the Express `req`. */
export type NestCacheOptions = CacheRouteOptions<Request>;

/** A tag, or a function of the request and the handler's result giving tags. */
// `result` is `any` so a tag function can name the handler's result type.
export type TagSource = string | ((req: Request, result: any) => string | readonly string[] | undefined | null);

/**
 * Caches the HTTP response of a GET route (or of every GET route of a
 * controller): status, headers and body as sent, not only the handler's
 * return value. Options are validated here, at decoration time.
 *
 * @example
 * @Cacheable({ ttl: 60_000, vary: ['accept-language'] })
 * @CacheTags('products', (req) => `product:${req.params.id}`)
 * @Get(':id')
 * findOne(@Param('id') id: string) { ... }
 */
export function Cacheable(options: NestCacheOptions = {}): MethodDecorator & ClassDecorator {
  new HttpCache('Cacheable', options);
  return applyDecorators(SetMetadata(CACHEABLE, options), UseInterceptors(CacheInterceptor));
}

/** Opts a route out of a controller-wide or global cache. */
export function NoCache(): MethodDecorator & ClassDecorator {
  return SetMetadata(CACHEABLE, false);
}

/**
 * Tags the cached response, statically or from the request and the
 * handler's result (variadic, unlike `Reflector.createDecorator`, so static
 * and computed tags mix).
 *
 * @example
 * @CacheTags('products', (req, product: Product) => `category:${product.categoryId}`)
 */
export function CacheTags(...tags: TagSource[]): MethodDecorator & ClassDecorator {
  return SetMetadata(CACHE_TAGS, tags);
}

/**
 * Purges tags after the handler succeeds, before the response is sent, so
 * the client's next GET sees the change.
 *
 * @example
 * @InvalidateTags('products', (req) => `product:${req.params.id}`)
 * @Put(':id')
 * update(@Param('id') id: string, @Body() dto: UpdateProduct) { ... }
 */
export function InvalidateTags(...tags: TagSource[]): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(INVALIDATE_TAGS, tags), UseInterceptors(CacheInterceptor));
}
