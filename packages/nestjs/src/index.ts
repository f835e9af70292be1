export { RedisKitModule } from './rediskit.module';
export {
  REDISKIT_MODULE_OPTIONS,
  REDISKIT_MODULE_OPTIONS_TYPE,
  REDISKIT_MODULE_ASYNC_OPTIONS_TYPE,
  type RedisKitModuleOptions,
} from './rediskit.module-definition';
export { REDISKIT, REDISKIT_OPTIONS } from './rediskit.constants';
export { InjectRedisKit } from './inject-rediskit.decorator';
export { RedisKitWorkersShutdown } from './streams';
