import { randomUUID } from 'node:crypto';
import { RedisKitError } from '../errors';
import { LUA } from '../generated/lua';
import { invalidOption, optNumber } from '../options';
import { failClosed } from '../redis/fail-policy';
import { checkArguments } from '../streams/arguments';
import { defineScript } from '../redis/script';
import type { RedisKit } from '../redis/redis-kit';
import { resolveQueueOptions, type ResolvedQueueOptions, type TaskQueueOptions, type TaskWorkerOptions } from './options';
import { TaskWorker, type TaskHandler } from './task-worker';

const scheduleScript = defineScript<[number, string, number]>(LUA.taskSchedule);
const cancelScript = defineScript<string>(LUA.taskCancel);
const rescheduleScript = defineScript<[number, string, number]>(LUA.taskReschedule);
const statsScript = defineScript<[number, number, number, number, number]>(LUA.taskStats);

/** Where a task is: waiting for its due time (or a retry), running in a worker, or dead-lettered. */
export type TaskState = 'scheduled' | 'active' | 'dead';

/** When a task is due: an absolute time (`at`, server clock) or a delay from now. */
export type TaskWhen = Date | number | { at: Date | number } | { delay: number };

/** Options of {@link TaskQueue.schedule}. Give `at` or `delay` (neither: due now). */
export interface ScheduleOptions {
  /** Due time (a `Date` or ms since the epoch), compared with the Redis server clock. */
  at?: Date | number;
  /** Due this many ms after Redis receives the call. */
  delay?: number;
  /**
   * Task id, also a dedupe key: while a task with this id is scheduled, running
   * or dead-lettered, and for `dedupeWindow` after it completed, scheduling it
   * again stores nothing. Default: a random UUID.
   */
  id?: string;
  /** Attempts for this task, overriding the queue's `maxAttempts`. */
  maxAttempts?: number;
}

/** What {@link TaskQueue.schedule} did. */
export interface ScheduleResult {
  id: string;
  /** False when the id was already taken; `state` and `dueAt` then describe the existing task. */
  created: boolean;
  state: TaskState | 'completed';
  /** Due time in ms since the epoch (0 for a completed task). */
  dueAt: number;
}

/** A stored task, as {@link TaskQueue.get} and {@link TaskQueue.deadLetters} return it. */
export interface TaskInfo<T = unknown> {
  id: string;
  state: TaskState;
  payload: T;
  /** Attempts started so far. */
  attempts: number;
  maxAttempts: number;
  dueAt: number;
  createdAt: number;
  /** The error of the last failed attempt, if any. */
  lastError?: string;
}

/** Counts of one queue. */
export interface QueueStats {
  scheduled: number;
  /** Scheduled tasks already due (waiting for a free worker). */
  due: number;
  active: number;
  dead: number;
}

/** The keys of one queue, all under one hash tag. */
export interface TaskQueueKeys {
  readonly scheduled: string;
  readonly active: string;
  readonly dead: string;
  readonly data: string;
  readonly done: string;
  readonly marker: string;
  readonly seq: string;
}

/** TTL of the wake-up marker list: long enough to outlive any blocking wait. */
export const MARKER_TTL = 120_000;

interface RawRecord {
  m: string;
  p: string;
  a: number;
  A: number;
  c: number;
  d: number;
  s: TaskState;
  e?: string;
}

/**
 * One named queue of delayed tasks: a sorted set of due times, a lease set of
 * running tasks and a dead-letter set, all under one hash tag (so it works on
 * Redis Cluster). Producers call `schedule`, `cancel`, `reschedule`; workers
 * come from `process()`. Producer calls fail closed: on a Redis error or
 * timeout they reject with a coded error and nothing is assumed stored (a
 * timed-out `schedule` may still have been applied: retry it with the same
 * `id` and the dedupe makes the retry safe).
 *
 * @example
 * const reminders = createTasks(kit).queue<{ userId: string }>('reminders');
 * await reminders.schedule({ userId: 'u1' }, { delay: 60_000, id: 'reminder:u1' });
 * const worker = reminders.process(async (task) => sendReminder(task.payload.userId));
 * // on shutdown
 * await worker.close();
 */
export class TaskQueue<T = unknown> {
  readonly name: string;
  readonly keys: TaskQueueKeys;
  readonly options: ResolvedQueueOptions;
  private readonly workers = new Set<TaskWorker<T>>();

  constructor(
    readonly kit: RedisKit,
    name: string,
    options: TaskQueueOptions = {},
  ) {
    const where = 'tasks.queue';
    if (typeof name !== 'string' || name.length === 0) invalidOption(where, 'name', 'a non-empty string', name);
    this.name = name;
    this.options = resolveQueueOptions(where, options, kit.options.operationTimeout);
    const e = kit.keys.entity('tasks', name);
    this.keys = Object.freeze({
      scheduled: e.key('scheduled'),
      active: e.key('active'),
      dead: e.key('dead'),
      data: e.key('data'),
      done: e.key('done'),
      marker: e.key('marker'),
      seq: e.key('seq'),
    });
  }

  /**
   * Stores a task due at `at` or after `delay` (default: now). With an `id`,
   * scheduling is idempotent: see {@link ScheduleOptions.id}.
   *
   * @example
   * await queue.schedule({ orderId: 42 }, { at: Date.parse('2030-01-01T09:00:00Z'), id: 'invoice:42' });
   */
  async schedule(payload: T, options: ScheduleOptions = {}): Promise<ScheduleResult> {
    const { id, at, delay, given, maxAttempts } = checkArguments(() => {
      const where = 'tasks.schedule';
      if (options === null || typeof options !== 'object') invalidOption(where, 'options', 'an object', options);
      const known = ['at', 'delay', 'id', 'maxAttempts'];
      for (const k of Object.keys(options)) if (!known.includes(k)) invalidOption(where, k, `one of ${known.join(', ')}`, k);
      const when = resolveWhen(where, options.at !== undefined ? { at: options.at } : { delay: options.delay ?? 0 }, options);
      const chosen = options.id !== undefined;
      return {
        ...when,
        given: chosen,
        id: chosen ? checkId(where, options.id) : randomUUID(),
        maxAttempts: optNumber(where, 'maxAttempts', options.maxAttempts, this.options.maxAttempts, { integer: true, min: 1, max: 1000 }),
      };
    });
    const k = this.keys;
    const text = encode(payload);
    const [created, state, dueAt] = await this.guarded('schedule', () =>
      scheduleScript.run(this.kit, [k.scheduled, k.data, k.done, k.marker, k.seq], [id, text, at, delay, maxAttempts, given ? 1 : 0, MARKER_TTL], {
        timeout: this.options.timeout,
      }),
    );
    const result: ScheduleResult = { id, created: created === 1, state: state as ScheduleResult['state'], dueAt: Number(dueAt) };
    this.kit.events.emit('tasks:scheduled', { queue: this.name, id, dueAt: result.dueAt, created: result.created });
    return result;
  }

  /**
   * Removes a scheduled (or dead-lettered) task. Resolves false when there is
   * no such task or it is running (a running handler cannot be recalled).
   */
  async cancel(id: string): Promise<boolean> {
    checkArguments(() => checkId('tasks.cancel', id));
    const k = this.keys;
    const before = await this.guarded('cancel', () =>
      cancelScript.run(this.kit, [k.scheduled, k.data, k.dead], [id], { timeout: this.options.timeout }),
    );
    return before === 'scheduled' || before === 'dead';
  }

  /**
   * Moves a scheduled task to a new due time, or brings a dead-lettered one
   * back with fresh attempts. Resolves false when there is no such task or it
   * is running.
   *
   * @example
   * await queue.reschedule('reminder:u1', { delay: 5 * 60_000 });
   * await queue.reschedule('reminder:u1', new Date('2030-01-01'));
   */
  async reschedule(id: string, when: TaskWhen): Promise<boolean> {
    const { at, delay } = checkArguments(() => {
      checkId('tasks.reschedule', id);
      return resolveWhen('tasks.reschedule', when);
    });
    const k = this.keys;
    const [moved] = await this.guarded('reschedule', () =>
      rescheduleScript.run(this.kit, [k.scheduled, k.data, k.dead, k.marker, k.seq], [id, at, delay, MARKER_TTL], {
        timeout: this.options.timeout,
      }),
    );
    return moved === 1;
  }

  /** The stored task, or null when unknown (never scheduled, cancelled or completed). */
  async get(id: string): Promise<TaskInfo<T> | null> {
    checkArguments(() => checkId('tasks.get', id));
    const raw = await this.kit.exec((redis) => redis.hget(this.keys.data, id), {
      operation: 'tasks get',
      timeout: this.options.timeout,
    });
    return raw === null ? null : this.info(id, raw);
  }

  /** Counts of the queue, read in one step. */
  async stats(): Promise<QueueStats> {
    const k = this.keys;
    const [scheduled, due, active, dead] = await statsScript.run(this.kit, [k.scheduled, k.active, k.dead], [], {
      timeout: this.options.timeout,
    });
    return { scheduled, due, active, dead };
  }

  /** Dead-lettered tasks, newest first, with their last error. */
  async deadLetters(limit = 100): Promise<Array<TaskInfo<T>>> {
    const n = checkArguments(() => optNumber('tasks.deadLetters', 'limit', limit, 100, { integer: true, min: 1, max: 10_000 }));
    const ids = await this.kit.exec((redis) => redis.zrevrange(this.keys.dead, 0, n - 1), {
      operation: 'tasks deadLetters',
      timeout: this.options.timeout,
    });
    if (ids.length === 0) return [];
    const raws = await this.kit.exec((redis) => redis.hmget(this.keys.data, ...ids), {
      operation: 'tasks deadLetters',
      timeout: this.options.timeout,
    });
    const out: Array<TaskInfo<T>> = [];
    raws.forEach((raw, i) => {
      if (raw !== null) out.push(this.info(ids[i]!, raw));
    });
    return out;
  }

  /**
   * Starts a worker that runs `handler` for each task once it is due. A handler
   * that resolves completes the task; one that throws schedules a retry after
   * the queue's backoff, or dead-letters the task after `maxAttempts`.
   */
  process(handler: TaskHandler<T>, options?: TaskWorkerOptions): TaskWorker<T> {
    const worker = new TaskWorker<T>(this, handler, options);
    this.workers.add(worker);
    worker.onClosed(() => this.workers.delete(worker));
    return worker;
  }

  /** Closes every worker this queue started. */
  async closeWorkers(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.close()));
  }

  /**
   * Deletes every key of the queue (tasks, dead letters, dedupe ids). The queue
   * is owned by the app: call this when the queue is retired. Close its workers first.
   */
  async destroy(): Promise<void> {
    const k = this.keys;
    await this.kit.exec((redis) => redis.del(k.scheduled, k.active, k.dead, k.data, k.done, k.marker, k.seq), {
      operation: 'tasks destroy',
      timeout: Math.max(this.options.timeout, 1000),
    });
  }

  /** Runs a producer call under the fail-closed policy (feature `tasks`): see {@link failClosed}. */
  private guarded<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    return failClosed(this.kit, 'tasks', operation, fn);
  }

  /** @internal Decodes a stored payload. */
  decode(text: string): T {
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new RedisKitError('ERR_REDISKIT_SERIALIZE', `tasks: a payload in queue ${JSON.stringify(this.name)} is not JSON`, { cause: error });
    }
  }

  private info(id: string, raw: string): TaskInfo<T> {
    const rec = JSON.parse(raw) as RawRecord;
    const info: TaskInfo<T> = {
      id,
      state: rec.s,
      payload: this.decode(rec.p),
      attempts: rec.a,
      maxAttempts: rec.A,
      dueAt: rec.d,
      createdAt: rec.c,
    };
    if (rec.e) info.lastError = rec.e;
    return info;
  }
}

function encode(payload: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (error) {
    throw new RedisKitError('ERR_REDISKIT_SERIALIZE', `tasks: the payload cannot be serialized to JSON: ${String(error)}`, { cause: error });
  }
  if (text === undefined) throw new RedisKitError('ERR_REDISKIT_SERIALIZE', 'tasks: the payload cannot be serialized to JSON (undefined or a function)');
  return text;
}

function checkId(where: string, id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024) invalidOption(where, 'id', 'a string of 1 to 1024 characters', id);
  return id;
}

/** Normalises a due time to the script's (at | '', delay) pair. */
function resolveWhen(where: string, when: TaskWhen, raw?: ScheduleOptions): { at: number | ''; delay: number } {
  if (raw && raw.at !== undefined && raw.delay !== undefined) invalidOption(where, 'at', 'unset when delay is given (give one of at, delay)', raw.at);
  let at: unknown;
  let delay: unknown = 0;
  if (when instanceof Date || typeof when === 'number') at = when;
  else if (when && typeof when === 'object' && 'at' in when) at = when.at;
  else if (when && typeof when === 'object' && 'delay' in when) delay = when.delay;
  else invalidOption(where, 'when', 'a Date, ms since the epoch, { at } or { delay }', when);
  if (at !== undefined) {
    const ms = at instanceof Date ? at.getTime() : at;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 8.64e15) invalidOption(where, 'at', 'a valid Date or ms since the epoch', at);
    return { at: Math.floor(ms), delay: 0 };
  }
  const d = optNumber(where, 'delay', delay, 0, { min: 0, max: 10 * 365 * 86_400_000 });
  return { at: '', delay: Math.floor(d) };
}
