import { Inject, Injectable, type BeforeApplicationShutdown, type Provider } from '@nestjs/common';
import { Streams, Tasks, type RedisKit } from '@rediskit/core';
import { REDISKIT } from '../rediskit.constants';
import { REDISKIT_MODULE_OPTIONS, type RedisKitModuleOptions } from '../rediskit.module-definition';

/**
 * Closes the consumers and workers started through the injected `Streams` and
 * `Tasks` before the context closes (Nest runs `beforeApplicationShutdown`
 * before `onApplicationShutdown`), so running handlers finish or are released.
 * Needs `app.enableShutdownHooks()` for signals; `app.close()` always runs it.
 */
@Injectable()
export class RedisKitWorkersShutdown implements BeforeApplicationShutdown {
  constructor(
    @Inject(Streams) private readonly streams: Streams,
    @Inject(Tasks) private readonly tasks: Tasks,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.streams.close(), this.tasks.close()]);
  }
}

/**
 * `Streams` and `Tasks` for the module's context, injectable by class:
 * `constructor(private readonly streams: Streams, private readonly tasks: Tasks)`.
 * Module options `streams` and `tasks` are their defaults.
 */
export const STREAMS_PROVIDERS: Provider[] = [
  {
    provide: Streams,
    useFactory: (kit: RedisKit, options: RedisKitModuleOptions) => new Streams(kit, options.streams),
    inject: [REDISKIT, REDISKIT_MODULE_OPTIONS],
  },
  {
    provide: Tasks,
    useFactory: (kit: RedisKit, options: RedisKitModuleOptions) => new Tasks(kit, options.tasks),
    inject: [REDISKIT, REDISKIT_MODULE_OPTIONS],
  },
  RedisKitWorkersShutdown,
];

/** Tokens the module exports for streams and tasks. */
export const STREAMS_EXPORTS = [Streams, Tasks];
