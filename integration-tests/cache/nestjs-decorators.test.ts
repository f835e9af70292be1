import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, Header, Injectable, Param, Put, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { createRedisKit, RedisCache, type RedisKit } from '@rediskit/core';
import {
  Cacheable,
  CacheInterceptor,
  CacheService,
  CacheTags,
  InvalidateTags,
  NoCache,
  RedisKitCacheModule,
  RedisKitModule,
  type NestCacheOptions,
} from '@rediskit/nestjs';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import request from 'supertest';
import { createNestApp } from '../harness';
import { cacheStatus } from './apps';

const db = new Map<string, { id: string; name: string; version: number }>();
let reads = 0;

@Controller('products')
@Cacheable({ ttl: 60_000 })
class ProductsController {
  @Get(':id')
  @Header('x-served-by', 'nest')
  @CacheTags('products', (_req, product: { id: string }) => `product:${product.id}`)
  findOne(@Param('id') id: string) {
    reads++;
    return db.get(id);
  }

  @Get(':id/live')
  @NoCache()
  live(@Param('id') id: string) {
    reads++;
    return db.get(id);
  }

  @Put(':id')
  @InvalidateTags((req) => `product:${req.params.id}`)
  update(@Param('id') id: string, @Body() body: { name: string }) {
    const p = db.get(id)!;
    db.set(id, { ...p, name: body.name, version: p.version + 1 });
    return db.get(id);
  }
}

@Controller('plain')
class PlainController {
  constructor(private readonly cache: CacheService) {}

  @Get('page')
  page() {
    reads++;
    return { reads };
  }

  @Get('wrapped')
  async wrapped() {
    return this.cache.wrap('wrapped', async () => ({ reads: ++reads }), { ttl: 60_000 });
  }
}

/** Decides per request: clients that send `x-legacy` get the X-Cache header instead of Cache-Status. */
@Injectable()
class LegacyHeaderCacheInterceptor extends CacheInterceptor {
  private readonly legacy: NestCacheOptions = { statusHeader: 'x-cache' };
  protected override optionsFor(context: ExecutionContext): NestCacheOptions | false {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    return req.headers['x-legacy'] ? this.legacy : super.optionsFor(context);
  }
}

describe('NestJS decorators and service', () => {
  let kit: RedisKit;
  let app: INestApplication;
  let globalApp: INestApplication;
  let perRequestApp: INestApplication;
  beforeAll(async () => {
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('nest-cache'), operationTimeout: 2000, logger: false });
    await kit.ready();
    app = await createNestApp({
      imports: [RedisKitModule.forRoot({ kit }), RedisKitCacheModule],
      controllers: [ProductsController, PlainController],
    });
    globalApp = await createNestApp({
      imports: [RedisKitModule.forRoot({ kit, cache: { defaults: { ttl: 60_000 } } }), RedisKitCacheModule],
      controllers: [PlainController],
      providers: [{ provide: APP_INTERCEPTOR, useClass: CacheInterceptor }],
    });
    perRequestApp = await createNestApp({
      imports: [RedisKitModule.forRoot({ kit, cache: { defaults: { ttl: 60_000 } } }), RedisKitCacheModule],
      controllers: [PlainController],
      providers: [{ provide: APP_INTERCEPTOR, useClass: LegacyHeaderCacheInterceptor }],
    });
  });
  afterAll(async () => {
    await app.close();
    await globalApp.close();
    await perRequestApp.close();
    await RedisCache.of(kit).idle();
    await kit.close();
  });

  it('caches the whole response of a handler that returns a value: status, headers, body', async () => {
    db.set('1', { id: '1', name: 'lamp', version: 1 });
    reads = 0;
    const miss = await request(app.getHttpServer()).get('/products/1').expect(200);
    const hit = await request(app.getHttpServer()).get('/products/1').expect(200);
    expect(hit.body).toEqual(miss.body);
    expect(hit.headers['x-served-by']).toBe('nest');
    expect(hit.headers['content-type']).toBe(miss.headers['content-type']);
    expect(cacheStatus(hit.headers).hit).toBe(true);
    expect(reads).toBe(1);
  });

  it('tags from the handler result, purged by CacheService and by @InvalidateTags', async () => {
    db.set('2', { id: '2', name: 'chair', version: 1 });
    await request(app.getHttpServer()).get('/products/2').expect(200);
    await app.get(CacheService).purgeTags('product:2');
    const afterPurge = await request(app.getHttpServer()).get('/products/2').expect(200);
    expect(cacheStatus(afterPurge.headers).hit).toBe(false);
    await request(app.getHttpServer()).put('/products/2').send({ name: 'stool' }).expect(200);
    const afterPut = await request(app.getHttpServer()).get('/products/2').expect(200);
    expect(afterPut.body).toMatchObject({ name: 'stool', version: 2 });
    expect(cacheStatus(afterPut.headers).hit).toBe(false);
  });

  it('@NoCache opts a route out of a cached controller', async () => {
    db.set('3', { id: '3', name: 'desk', version: 1 });
    reads = 0;
    await request(app.getHttpServer()).get('/products/3/live').expect(200);
    const second = await request(app.getHttpServer()).get('/products/3/live').expect(200);
    expect(second.headers['cache-status']).toBeUndefined();
    expect(reads).toBe(2);
  });

  it('as a global interceptor caches every GET route with the module defaults', async () => {
    const first = await request(globalApp.getHttpServer()).get('/plain/page').expect(200);
    const second = await request(globalApp.getHttpServer()).get('/plain/page').expect(200);
    expect(second.body).toEqual(first.body);
    expect(cacheStatus(second.headers).hit).toBe(true);
  });

  it('takes the options an overridden optionsFor gives for each request, also for one route', async () => {
    const server = perRequestApp.getHttpServer();
    await request(server).get('/plain/page').expect(200);
    const modern = await request(server).get('/plain/page').expect(200);
    expect(cacheStatus(modern.headers).hit).toBe(true);
    expect(modern.headers['x-cache']).toBeUndefined();
    const legacy = await request(server).get('/plain/page').set('x-legacy', '1').expect(200);
    expect(legacy.headers['x-cache']).toBe('HIT');
    expect(legacy.headers['cache-status']).toBeUndefined();
    const again = await request(server).get('/plain/page').expect(200);
    expect(cacheStatus(again.headers).hit).toBe(true);
  });

  it('CacheService.wrap caches application values', async () => {
    const a = await request(app.getHttpServer()).get('/plain/wrapped').expect(200);
    const b = await request(app.getHttpServer()).get('/plain/wrapped').expect(200);
    expect(b.body).toEqual(a.body);
  });

  it('@Cacheable validates its options when applied', () => {
    expect(() => Cacheable({ ttl: -1 })).toThrow(expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }));
  });
});
