export { RedisSessionStore } from './redis-session-store';
