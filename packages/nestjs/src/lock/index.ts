export { LockService } from './lock.service';
