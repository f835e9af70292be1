export { attachRedisKit, getRedisKit } from './context';
export { sendPlain } from './problem';
