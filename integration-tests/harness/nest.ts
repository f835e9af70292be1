import 'reflect-metadata';
import { Controller, Delete, Get, Head, HttpCode, Patch, Post, Put, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/** One route of a controller built at run time. */
export interface NestRouteSpec {
  method: Method;
  path: string;
  /** Parameter decorators by index, e.g. `[Req(), Res({ passthrough: true })]`. */
  params?: ParameterDecorator[];
  /** Method decorators, applied in order (e.g. `@Cacheable()`, `@UseGuards()`). */
  decorators?: MethodDecorator[];
  /** Status Nest sends for a returned value; default Nest's (201 for POST). */
  status?: number;
  handler: (...args: any[]) => unknown;
}

const METHOD_DECORATORS: Record<Method, (path?: string) => MethodDecorator> = {
  GET: Get,
  POST: Post,
  PUT: Put,
  PATCH: Patch,
  DELETE: Delete,
  HEAD: Head,
};

/**
 * Builds a Nest controller class from plain route specs, so a behaviour suite
 * can declare the same routes for Express, Koa and Nest.
 */
export function makeController(prefix: string, routes: NestRouteSpec[], classDecorators: ClassDecorator[] = []): Type<unknown> {
  class DynamicController {}
  routes.forEach((route, i) => {
    const name = `route${i}`;
    const fn = function (this: unknown, ...args: unknown[]) {
      return route.handler(...args);
    };
    Object.defineProperty(fn, 'name', { value: name });
    (DynamicController.prototype as unknown as Record<string, unknown>)[name] = fn;
    const descriptor = Object.getOwnPropertyDescriptor(DynamicController.prototype, name)!;
    Reflect.defineMetadata('design:paramtypes', (route.params ?? []).map(() => Object), DynamicController.prototype, name);
    (route.params ?? []).forEach((decorate, index) => decorate(DynamicController.prototype, name, index));
    const decorators: MethodDecorator[] = [METHOD_DECORATORS[route.method](route.path), ...(route.decorators ?? [])];
    if (route.status !== undefined) decorators.push(HttpCode(route.status));
    for (const decorate of decorators.reverse()) {
      const next = decorate(DynamicController.prototype, name, descriptor);
      if (next) Object.defineProperty(DynamicController.prototype, name, next);
    }
  });
  Controller(prefix)(DynamicController);
  for (const decorate of classDecorators) decorate(DynamicController);
  return DynamicController;
}

/** Compiles a testing module and starts an app on the Express platform (not listening). */
export async function createNestApp(metadata: {
  imports?: any[];
  controllers?: Type<unknown>[];
  providers?: any[];
}): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}
