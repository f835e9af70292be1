import type { RedisKitError } from '../errors';

/** Events of the tasks engine, emitted on the context's `events`. Names are `'tasks:<event>'`. */
export interface TaskEvents {
  /** `schedule()` stored a task (`created: false`: the id was taken, nothing stored). */
  'tasks:scheduled': { queue: string; id: string; dueAt: number; created: boolean };
  /** A worker started a task's handler. `attempt` counts from 1. */
  'tasks:started': { queue: string; id: string; attempt: number };
  /** A handler finished and the task was removed. */
  'tasks:completed': { queue: string; id: string; attempt: number };
  /** A handler failed; the task runs again at `retryAt`. */
  'tasks:retrying': { queue: string; id: string; attempt: number; error: string; retryAt: number };
  /** A task used all its attempts (or its worker was lost on the last one) and went to the dead-letter set. */
  'tasks:dead': { queue: string; id: string; attempts: number; error: string };
  /** Tasks whose worker died came back after their lease expired. */
  'tasks:recovered': { queue: string; count: number };
  /** A running task's lease was lost (expired or taken over); its handler's `signal` is aborted. */
  'tasks:lease-lost': { queue: string; id: string; attempt: number };
  /** A worker gave running tasks back when it shut down before they finished. */
  'tasks:released': { queue: string; count: number };
  /** A worker's Redis operation failed; the worker waits and tries again by itself. */
  'tasks:worker-error': { queue: string; worker: string; operation: string; error: RedisKitError };
  /** A blocking wait hung past its bound and its connection was replaced. */
  'tasks:watchdog': { queue: string; worker: string; waitedMs: number };
}
