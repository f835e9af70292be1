import { Inject } from '@nestjs/common';
import { REDISKIT } from './rediskit.constants';

/**
 * Injects the module's {@link RedisKit} context.
 *
 * @example
 * @Injectable()
 * export class VisitsService {
 *   constructor(@InjectRedisKit() private readonly kit: RedisKit) {}
 * }
 */
export const InjectRedisKit = (): ParameterDecorator & PropertyDecorator => Inject(REDISKIT);
