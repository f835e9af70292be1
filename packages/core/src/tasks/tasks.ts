import type { RedisKit } from '../redis/redis-kit';
import type { TaskQueueOptions, TaskWorkerOptions } from './options';
import { TaskQueue, type ScheduleOptions, type ScheduleResult, type TaskWhen } from './task-queue';
import type { TaskHandler, TaskWorker } from './task-worker';

/**
 * Delayed tasks by queue name, over one context: the entry point for apps
 * (and what the NestJS module injects). Queues are created on first use with
 * the defaults given here.
 *
 * @example
 * const tasks = createTasks(kit, { maxAttempts: 3 });
 * await tasks.schedule('reminders', { userId: 'u1' }, { delay: 60_000, id: 'reminder:u1' });
 * await tasks.reschedule('reminders', 'reminder:u1', { delay: 120_000 });
 * await tasks.cancel('reminders', 'reminder:u1');
 * tasks.process('reminders', async (task) => send(task.payload));
 * await tasks.close(); // on shutdown: closes the workers
 */
export class Tasks {
  private readonly queues = new Map<string, TaskQueue<unknown>>();

  constructor(
    readonly kit: RedisKit,
    private readonly defaults: TaskQueueOptions = {},
  ) {
    // Validate the defaults now, not on first use.
    new TaskQueue(kit, 'defaults-check', defaults);
  }

  /** The queue named `name` (one instance per name; `options` apply when it is first created). */
  queue<T = unknown>(name: string, options?: TaskQueueOptions): TaskQueue<T> {
    let q = this.queues.get(name);
    if (!q) {
      q = new TaskQueue<unknown>(this.kit, name, { ...this.defaults, ...(options ?? {}) });
      this.queues.set(name, q);
    }
    return q as TaskQueue<T>;
  }

  /** {@link TaskQueue.schedule} on queue `queue`. */
  schedule<T>(queue: string, payload: T, options?: ScheduleOptions): Promise<ScheduleResult> {
    return this.queue<T>(queue).schedule(payload, options);
  }

  /** {@link TaskQueue.cancel} on queue `queue`. */
  cancel(queue: string, id: string): Promise<boolean> {
    return this.queue(queue).cancel(id);
  }

  /** {@link TaskQueue.reschedule} on queue `queue`. */
  reschedule(queue: string, id: string, when: TaskWhen): Promise<boolean> {
    return this.queue(queue).reschedule(id, when);
  }

  /** Starts a worker for queue `queue` ({@link TaskQueue.process}). */
  process<T>(queue: string, handler: TaskHandler<T>, options?: TaskWorkerOptions): TaskWorker<T> {
    return this.queue<T>(queue).process(handler, options);
  }

  /** Closes every worker started through this object (graceful: see {@link TaskWorker.close}). */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.closeWorkers()));
  }
}

/**
 * Creates the delayed-tasks entry point of a context. See {@link Tasks}.
 *
 * @example
 * const tasks = createTasks(kit, { maxAttempts: 3, backoff: { type: 'fixed', delay: 5000 } });
 */
export function createTasks(kit: RedisKit, defaults?: TaskQueueOptions): Tasks {
  return new Tasks(kit, defaults);
}
