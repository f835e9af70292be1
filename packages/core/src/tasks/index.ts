export type { TaskEvents } from './events';
export { Tasks, createTasks } from './tasks';
export {
  TaskQueue,
  type TaskState,
  type TaskWhen,
  type ScheduleOptions,
  type ScheduleResult,
  type TaskInfo,
  type QueueStats,
  type TaskQueueKeys,
} from './task-queue';
export { TaskWorker, type Task, type TaskHandler } from './task-worker';
export type { TaskQueueOptions, TaskWorkerOptions, BackoffOption } from './options';
