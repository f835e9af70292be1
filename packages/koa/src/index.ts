export { attachRedisKit, getRedisKit } from './context';
export { sendPlain } from './problem';
export { RedisSessionStore } from './session';
