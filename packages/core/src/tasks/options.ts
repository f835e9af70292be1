import { assertKnownOptions, invalidOption, optEnum, optFunction, optNumber } from '../options';

/** How long a failed task waits before its next attempt. */
export type BackoffOption =
  | { type: 'fixed'; delay: number }
  | { type: 'exponential'; delay: number; maxDelay?: number }
  /** `attempt` is the attempt that just failed (1 for the first). Returns ms. */
  | ((attempt: number) => number);

/** Options of a task queue (`createTasks(kit, options)`, `tasks.queue(name, options)`). */
export interface TaskQueueOptions {
  /** Attempts per task (the first run included) before it goes to the dead-letter set. Default 5. */
  maxAttempts?: number;
  /** Delay before a retry. Default `{ type: 'exponential', delay: 1000, maxDelay: 3_600_000 }`: 1 s, 2 s, 4 s, ... */
  backoff?: BackoffOption;
  /**
   * How long a caller-chosen task id is remembered after the task completed,
   * so scheduling it again is a no-op, in ms. While the task is scheduled,
   * running or dead-lettered its id is always taken. 0 forgets at once. Default 3_600_000 (1 hour).
   */
  dedupeWindow?: number;
  /** Most dead-lettered tasks kept; the oldest are deleted beyond. Default 10_000. */
  maxDeadLetters?: number;
  /** Timeout of `schedule`, `cancel`, `reschedule`, `get`, `stats`, in ms. Default: the context's `operationTimeout`. */
  timeout?: number;
}

/** Options of a worker (`queue.process(handler, options)`). */
export interface TaskWorkerOptions {
  /** Handlers running at once in this worker. Default 1. */
  concurrency?: number;
  /**
   * Visibility lease of a running task, in ms: if the worker stops extending it
   * (crashed, frozen, cut off from Redis) for this long, the task is handed to
   * another worker. Extended every `lease / 3` while the handler runs. Default 30_000.
   */
  lease?: number;
  /** Longest single blocking wait for the next due task, in ms; the wait is cut short when an earlier task is scheduled. Default 5000. */
  maxBlock?: number;
  /** On `close()`, how long to let running handlers finish before their tasks are given back, in ms. Default 10_000. */
  shutdownTimeout?: number;
  /** How long past its bound a blocking wait may hang before its connection is replaced, in ms. Default `max(2000, maxBlock)`. */
  watchdogGrace?: number;
  /** Timeout of the worker's own Redis operations (claim, complete, extend), in ms. Default 5000. */
  commandTimeout?: number;
}

export interface ResolvedQueueOptions {
  readonly maxAttempts: number;
  readonly backoff: (attempt: number) => number;
  readonly dedupeWindow: number;
  readonly maxDeadLetters: number;
  readonly timeout: number;
}

export interface ResolvedWorkerOptions {
  readonly concurrency: number;
  readonly lease: number;
  readonly maxBlock: number;
  readonly shutdownTimeout: number;
  readonly watchdogGrace: number;
  readonly commandTimeout: number;
}

const QUEUE_OPTIONS = ['maxAttempts', 'backoff', 'dedupeWindow', 'maxDeadLetters', 'timeout'] as const;
const WORKER_OPTIONS = ['concurrency', 'lease', 'maxBlock', 'shutdownTimeout', 'watchdogGrace', 'commandTimeout'] as const;
const DAY = 86_400_000;

function resolveBackoff(where: string, value: unknown): (attempt: number) => number {
  if (value === undefined) return exponential(1000, 3_600_000);
  if (typeof value === 'function') {
    const fn = optFunction<(attempt: number) => number>(where, 'backoff', value, undefined)!;
    return (attempt) => {
      const ms = Number(fn(attempt));
      return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 365 * DAY) : 0;
    };
  }
  if (value === null || typeof value !== 'object') {
    invalidOption(where, 'backoff', "{ type: 'fixed' | 'exponential', delay } or a function", value);
  }
  const b = value as Record<string, unknown>;
  assertKnownOptions(`${where}.backoff`, b, ['type', 'delay', 'maxDelay']);
  const type = optEnum(`${where}.backoff`, 'type', b.type, ['fixed', 'exponential'] as const, 'exponential');
  const delay = optNumber(`${where}.backoff`, 'delay', b.delay, 1000, { min: 0, max: 365 * DAY });
  if (type === 'fixed') {
    if (b.maxDelay !== undefined) invalidOption(`${where}.backoff`, 'maxDelay', 'unset for a fixed backoff', b.maxDelay);
    return () => delay;
  }
  const maxDelay = optNumber(`${where}.backoff`, 'maxDelay', b.maxDelay, 3_600_000, { min: delay, max: 365 * DAY });
  return exponential(delay, maxDelay);
}

function exponential(delay: number, maxDelay: number): (attempt: number) => number {
  return (attempt) => Math.min(maxDelay, delay * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
}

/** Validates queue options (throws coded errors) and fills in defaults. */
export function resolveQueueOptions(where: string, options: TaskQueueOptions | undefined, operationTimeout: number): ResolvedQueueOptions {
  assertKnownOptions(where, options, QUEUE_OPTIONS);
  const o = options ?? {};
  return Object.freeze({
    maxAttempts: optNumber(where, 'maxAttempts', o.maxAttempts, 5, { integer: true, min: 1, max: 1000 }),
    backoff: resolveBackoff(where, o.backoff),
    dedupeWindow: optNumber(where, 'dedupeWindow', o.dedupeWindow, 3_600_000, { integer: true, min: 0, max: 365 * DAY }),
    maxDeadLetters: optNumber(where, 'maxDeadLetters', o.maxDeadLetters, 10_000, { integer: true, min: 1 }),
    timeout: optNumber(where, 'timeout', o.timeout, operationTimeout, { min: 1, max: 60_000 }),
  });
}

/** Validates worker options (throws coded errors) and fills in defaults. */
export function resolveWorkerOptions(where: string, options: TaskWorkerOptions | undefined): ResolvedWorkerOptions {
  assertKnownOptions(where, options, WORKER_OPTIONS);
  const o = options ?? {};
  const maxBlock = optNumber(where, 'maxBlock', o.maxBlock, 5000, { integer: true, min: 10, max: 60_000 });
  const lease = optNumber(where, 'lease', o.lease, 30_000, { integer: true, min: 100, max: DAY });
  return Object.freeze({
    concurrency: optNumber(where, 'concurrency', o.concurrency, 1, { integer: true, min: 1, max: 10_000 }),
    lease,
    maxBlock,
    shutdownTimeout: optNumber(where, 'shutdownTimeout', o.shutdownTimeout, 10_000, { min: 0, max: DAY }),
    watchdogGrace: optNumber(where, 'watchdogGrace', o.watchdogGrace, Math.max(2000, maxBlock), { min: 100, max: 600_000 }),
    commandTimeout: optNumber(where, 'commandTimeout', o.commandTimeout, 5000, { min: 1, max: 60_000 }),
  });
}
