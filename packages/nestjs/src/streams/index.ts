export { STREAMS_PROVIDERS, STREAMS_EXPORTS, RedisKitWorkersShutdown } from './streams.providers';
