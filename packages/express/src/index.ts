export { attachRedisKit, getRedisKit } from './context';
export { sendPlain } from './problem';
export * from './rate-limit';
