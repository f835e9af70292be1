export { RedisSessionService } from './redis-session.service';
