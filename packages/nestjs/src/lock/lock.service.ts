import { Inject, Injectable } from '@nestjs/common';
import { LockManager, type RedisKit } from '@rediskit/core';
import { REDISKIT, REDISKIT_OPTIONS } from '../rediskit.constants';
import type { RedisKitModuleOptions } from '../rediskit.module-definition';

/**
 * The lock manager of `@rediskit/core` as an injectable service, on the
 * module's context, with the module's `lock` options as defaults. Provided
 * and exported by `RedisKitModule`.
 *
 * @example
 * @Injectable()
 * export class InvoiceJob {
 *   constructor(private readonly locks: LockService) {}
 *
 *   run(id: string) {
 *     return this.locks.using(`invoice:${id}`, async (signal, lock) => {
 *       await this.invoices.issue(id, { fence: lock.fence, signal });
 *     });
 *   }
 * }
 */
@Injectable()
export class LockService extends LockManager {
  constructor(@Inject(REDISKIT) kit: RedisKit, @Inject(REDISKIT_OPTIONS) options: RedisKitModuleOptions) {
    super(kit, options?.lock);
  }
}
