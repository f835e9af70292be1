import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createRedisKit, RedisKitError, type RedisKit } from '@rediskit/core';
import { LockService } from './lock';
import { REDISKIT, REDISKIT_OPTIONS } from './rediskit.constants';
import { StructuresService } from './structures';
import {
  REDISKIT_MODULE_OPTIONS,
  RedisKitConfigurableModule,
  type RedisKitModuleOptions,
} from './rediskit.module-definition';
import { RedisSessionService } from './session';
import { STREAMS_EXPORTS, STREAMS_PROVIDERS } from './streams';

const OWNED = Symbol('rediskit:owned');

function contextFrom(options: RedisKitModuleOptions): RedisKit {
  if (options.kit && options.connection) {
    throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', 'RedisKitModule: give either kit or connection, not both');
  }
  if (options.kit) return options.kit;
  if (!options.connection) {
    throw new RedisKitError(
      'ERR_REDISKIT_NO_CONNECTION',
      'RedisKitModule: give kit (an existing context) or connection (options for createRedisKit)',
    );
  }
  const kit = createRedisKit(options.connection);
  (kit as unknown as Record<symbol, boolean>)[OWNED] = true;
  return kit;
}

/**
 * Provides one rediskit context to the whole Nest app (global by default).
 *
 * @example
 * @Module({ imports: [RedisKitModule.forRoot({ connection: { url: process.env.REDIS_URL } })] })
 * export class AppModule {}
 *
 * @Module({
 *   imports: [RedisKitModule.forRootAsync({
 *     inject: [ConfigService],
 *     useFactory: (config: ConfigService) => ({ connection: { url: config.get('REDIS_URL') } }),
 *   })],
 * })
 * export class AppModule {}
 */
@Module({
  providers: [
    { provide: REDISKIT, useFactory: contextFrom, inject: [REDISKIT_MODULE_OPTIONS] },
    { provide: REDISKIT_OPTIONS, useExisting: REDISKIT_MODULE_OPTIONS },
    // Feature services, one line each.
    LockService,
    StructuresService,
    RedisSessionService,
    ...STREAMS_PROVIDERS,
  ],
  exports: [
    REDISKIT,
    REDISKIT_OPTIONS,
    LockService,
    StructuresService,
    RedisSessionService,
    ...STREAMS_EXPORTS,
  ],
})
export class RedisKitModule extends RedisKitConfigurableModule implements OnApplicationShutdown {
  constructor(@Inject(REDISKIT) private readonly kit: RedisKit) {
    super();
  }

  /** Closes the context if the module created it (never one passed as `kit`). */
  async onApplicationShutdown(): Promise<void> {
    if ((this.kit as unknown as Record<symbol, boolean>)[OWNED]) await this.kit.close();
  }
}
