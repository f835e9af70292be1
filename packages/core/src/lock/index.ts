export { LockManager, createLockManager, type LockStatus, type LockedFunction } from './lock-manager';
export { Lock, type LockState } from './lock';
export {
  LOCK_DEFAULTS,
  type LockManagerOptions,
  type AcquireOptions,
  type TryAcquireOptions,
  type LockRetryOptions,
  type ReplicaWaitOptions,
  type ResolvedLockOptions,
} from './options';
export type { LockEvents, LockLostReason } from './events';
