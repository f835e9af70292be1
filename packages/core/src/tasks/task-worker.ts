import { RedisKitError } from '../errors';
import { LUA } from '../generated/lua';
import { invalidOption } from '../options';
import { errorText, loopBackoff, processIdentity, Sleeper } from '../redis/background';
import { BlockingConnection } from '../redis/blocking-connection';
import { toRedisKitError } from '../redis/errors-map';
import { defineScript } from '../redis/script';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type TaskWorkerOptions } from './options';
import { MARKER_TTL, type TaskQueue } from './task-queue';

type ClaimReply = [number, number, number, Array<string | number>, Array<string | number>];

const claimScript = defineScript<ClaimReply>(LUA.taskClaim);
const completeScript = defineScript<number>(LUA.taskComplete);
const failScript = defineScript<[string, number]>(LUA.taskFail);
const extendScript = defineScript<string[]>(LUA.taskExtend);
const releaseScript = defineScript<number>(LUA.taskRelease);

/** What a handler receives: one due task. */
export interface Task<T = unknown> {
  id: string;
  queue: string;
  payload: T;
  /** This attempt, from 1. */
  attempt: number;
  maxAttempts: number;
  /** When the task was due (ms since the epoch, server clock). */
  dueAt: number;
  createdAt: number;
  /** The error of the previous attempt, if it failed. */
  lastError?: string;
  /**
   * Aborted when the worker lost this task's lease (another worker may run it
   * now) or gave the task back on shutdown. Long handlers should watch it.
   */
  signal: AbortSignal;
}

/** Runs one task. Resolve to complete it; throw to retry it (or dead-letter it after `maxAttempts`). */
export type TaskHandler<T = unknown> = (task: Task<T>) => unknown;

interface Running {
  attempt: number;
  controller: AbortController;
  released: boolean;
  done: Promise<void>;
}

let workers = 0;

/**
 * Runs a queue's tasks once they are due, `concurrency` at a time. Started by
 * {@link TaskQueue.process}. Survives Redis restarts by itself (it retries
 * with backoff and emits `tasks:worker-error`); delivery is at least once: a
 * task whose worker died runs again after its lease.
 *
 * @example
 * const worker = tasks.process<{ userId: string }>('reminders', async (task) => {
 *   await mailer.send(task.payload.userId, { signal: task.signal });
 * }, { concurrency: 4, lease: 60_000 });
 * process.once('SIGTERM', () => worker.close());
 */
export class TaskWorker<T = unknown> {
  /** Stable for the process: `<host>:<pid>:<random>:w<n>`. */
  readonly name: string;
  readonly options: ResolvedWorkerOptions;
  private readonly conn: BlockingConnection;
  private readonly running = new Map<string, Running>();
  private readonly sleeper = new Sleeper();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly loop: Promise<void>;
  private readonly closedCallbacks: Array<() => void> = [];
  private stopping = false;
  private closing: Promise<void> | undefined;
  private extending = false;
  private failures = 0;

  constructor(
    private readonly queue: TaskQueue<T>,
    private readonly handler: TaskHandler<T>,
    options?: TaskWorkerOptions,
  ) {
    if (typeof handler !== 'function') invalidOption('tasks.process', 'handler', 'a function', handler);
    this.options = resolveWorkerOptions('tasks.process', options);
    this.name = `${processIdentity()}:w${++workers}`;
    this.conn = new BlockingConnection(queue.kit, {
      name: `rk-tasks:${this.name}`.replace(/[^\w.:-]/g, '-'),
      watchdogGrace: this.options.watchdogGrace,
      onWatchdog: ({ waitedMs }) => queue.kit.events.emit('tasks:watchdog', { queue: queue.name, worker: this.name, waitedMs }),
    });
    this.heartbeat = setInterval(() => void this.extend(), Math.max(50, Math.floor(this.options.lease / 3)));
    this.heartbeat.unref();
    // A context closed under a running worker ends it: nothing can reach Redis any more.
    queue.kit.events.once('closed', () => this.abandon());
    this.loop = this.run();
  }

  /** Tasks whose handlers are running now. */
  get active(): number {
    return this.running.size;
  }

  private get finished(): boolean {
    return this.stopping || this.queue.kit.state === 'closed';
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.stopping;
  }

  /** @internal */
  onClosed(callback: () => void): void {
    this.closedCallbacks.push(callback);
  }

  /**
   * Stops taking tasks, lets running handlers finish for up to
   * `shutdownTimeout` ms, then gives the unfinished ones back (due at once,
   * the attempt not counted) and aborts their signals.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeout ?? this.options.shutdownTimeout);
    return this.closing;
  }

  private abandon(): void {
    this.stopping = true;
    this.sleeper.wake();
    clearInterval(this.heartbeat);
    void this.conn.close();
  }

  private async shutdown(timeout: number): Promise<void> {
    this.stopping = true;
    this.sleeper.wake();
    // Ends a blocking read in progress; the loop needs the connection no more.
    const connectionClosed = this.conn.close();
    await this.loop;
    const all = [...this.running.values()].map((r) => r.done);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(all), new Promise<void>((r) => (timer = setTimeout(r, timeout)))]);
    clearTimeout(timer);
    const unfinished = [...this.running.entries()];
    if (unfinished.length > 0) {
      for (const [, r] of unfinished) {
        r.released = true;
        r.controller.abort(new RedisKitError('ERR_REDISKIT_CLOSED', 'the worker shut down; the task was given back'));
      }
      if (this.queue.kit.state !== 'closed') {
        const k = this.queue.keys;
        try {
          const n = await releaseScript.run(
            this.queue.kit,
            [k.active, k.data, k.scheduled, k.marker],
            [MARKER_TTL, ...unfinished.flatMap(([id, r]) => [id, r.attempt])],
            { timeout: this.options.commandTimeout },
          );
          if (n > 0) this.queue.kit.events.emit('tasks:released', { queue: this.queue.name, count: n });
        } catch (error) {
          // The leases expire by themselves; the tasks come back then.
          this.reportError('release', error);
        }
      }
    }
    clearInterval(this.heartbeat);
    await connectionClosed;
    for (const cb of this.closedCallbacks.splice(0)) cb();
  }

  private async run(): Promise<void> {
    const kit = this.queue.kit;
    const k = this.queue.keys;
    const o = this.options;
    while (!this.finished) {
      const free = o.concurrency - this.running.size;
      if (free <= 0) {
        await this.sleeper.sleep(o.maxBlock);
        continue;
      }
      let reply: ClaimReply;
      try {
        reply = await claimScript.run(kit, [k.scheduled, k.active, k.data, k.dead, k.marker], [free, o.lease, this.queue.options.maxDeadLetters, MARKER_TTL], {
          timeout: o.commandTimeout,
        });
        this.failures = 0;
        kit.noteSuccess('tasks');
      } catch (error) {
        if (this.finished) break;
        this.reportError('claim', error);
        await this.sleeper.sleep(loopBackoff(this.failures++));
        continue;
      }
      const [now, next, recovered, dead, flat] = reply;
      if (recovered > 0) kit.events.emit('tasks:recovered', { queue: this.queue.name, count: recovered });
      for (let i = 0; i + 1 < dead.length; i += 2) {
        kit.events.emit('tasks:dead', {
          queue: this.queue.name,
          id: String(dead[i]),
          attempts: Number(dead[i + 1]),
          error: 'lease expired on the last attempt (worker lost)',
        });
      }
      let claimed = 0;
      for (let i = 0; i + 6 < flat.length; i += 7) {
        claimed++;
        this.start({
          id: String(flat[i]),
          payloadText: String(flat[i + 1]),
          attempt: Number(flat[i + 2]),
          maxAttempts: Number(flat[i + 3]),
          dueAt: Number(flat[i + 4]),
          createdAt: Number(flat[i + 5]),
          lastError: String(flat[i + 6] ?? ''),
        });
      }
      if (this.stopping) break;
      if (claimed === free) continue;
      let wait = next < 0 ? o.maxBlock : Math.min(o.maxBlock, next - now);
      if (wait <= 0) {
        if (claimed > 0 || recovered > 0) continue;
        wait = 10;
      }
      try {
        const seconds = (Math.max(10, wait) / 1000).toFixed(3);
        await this.conn.run(Math.max(10, wait), (redis) => redis.blpop(k.marker, seconds), 'tasks wait');
      } catch (error) {
        if (this.finished) break;
        const coded = toRedisKitError(error, 'tasks wait');
        if (!(coded.code === 'ERR_REDISKIT_TIMEOUT' && coded.details.watchdog)) this.reportError('wait', coded);
        await this.sleeper.sleep(loopBackoff(this.failures++));
      }
    }
  }

  private start(raw: {
    id: string;
    payloadText: string;
    attempt: number;
    maxAttempts: number;
    dueAt: number;
    createdAt: number;
    lastError: string;
  }): void {
    const kit = this.queue.kit;
    const controller = new AbortController();
    const entry: Running = { attempt: raw.attempt, controller, released: false, done: Promise.resolve() };
    this.running.set(raw.id, entry);
    kit.events.emit('tasks:started', { queue: this.queue.name, id: raw.id, attempt: raw.attempt });
    entry.done = (async () => {
      let failure: unknown;
      let ok = false;
      try {
        const task: Task<T> = {
          id: raw.id,
          queue: this.queue.name,
          payload: this.queue.decode(raw.payloadText),
          attempt: raw.attempt,
          maxAttempts: raw.maxAttempts,
          dueAt: raw.dueAt,
          createdAt: raw.createdAt,
          signal: controller.signal,
        };
        if (raw.lastError) task.lastError = raw.lastError;
        await this.handler(task);
        ok = true;
      } catch (error) {
        failure = error;
      }
      if (entry.released) return;
      if (ok) await this.settle('complete', () => this.complete(raw.id, raw.attempt));
      else await this.settle('fail', () => this.fail(raw.id, raw.attempt, errorText(failure)));
    })().finally(() => {
      if (this.running.get(raw.id) === entry) this.running.delete(raw.id);
      this.sleeper.wake();
    });
  }

  private async complete(id: string, attempt: number): Promise<void> {
    const k = this.queue.keys;
    const done = await completeScript.run(this.queue.kit, [k.active, k.data, k.done], [id, attempt, this.queue.options.dedupeWindow], {
      timeout: this.options.commandTimeout,
    });
    if (done === 1) this.queue.kit.events.emit('tasks:completed', { queue: this.queue.name, id, attempt });
  }

  private async fail(id: string, attempt: number, error: string): Promise<void> {
    const k = this.queue.keys;
    const delay = Math.max(0, Math.floor(this.queue.options.backoff(attempt)));
    const [outcome, at] = await failScript.run(
      this.queue.kit,
      [k.active, k.data, k.scheduled, k.dead, k.marker],
      [id, attempt, error, delay, this.queue.options.maxDeadLetters, MARKER_TTL],
      { timeout: this.options.commandTimeout },
    );
    const events = this.queue.kit.events;
    if (outcome === 'retry') events.emit('tasks:retrying', { queue: this.queue.name, id, attempt, error, retryAt: Number(at) });
    else if (outcome === 'dead') events.emit('tasks:dead', { queue: this.queue.name, id, attempts: attempt, error });
  }

  /**
   * Reports a handler's outcome, retrying while Redis is unreachable for up to
   * one lease (after that the task runs again elsewhere anyway).
   */
  private async settle(operation: string, fn: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + this.options.lease;
    for (let failures = 0; ; failures++) {
      try {
        await fn();
        return;
      } catch (error) {
        if (this.queue.kit.state === 'closed') return;
        this.reportError(operation, error);
        if (Date.now() >= deadline) return;
        await new Promise((r) => setTimeout(r, loopBackoff(failures)));
      }
    }
  }

  private async extend(): Promise<void> {
    if (this.extending || this.running.size === 0 || this.queue.kit.state === 'closed') return;
    this.extending = true;
    const held = [...this.running.entries()].filter(([, r]) => !r.released);
    try {
      if (held.length === 0) return;
      const k = this.queue.keys;
      const lost = await extendScript.run(this.queue.kit, [k.active, k.data], [this.options.lease, ...held.flatMap(([id, r]) => [id, r.attempt])], {
        timeout: this.options.commandTimeout,
      });
      for (const id of lost) {
        const r = this.running.get(id);
        if (!r || r.controller.signal.aborted) continue;
        r.controller.abort(new RedisKitError('ERR_REDISKIT_LEASE_LOST', `task ${id}: the lease was lost; another worker may run it`));
        this.queue.kit.events.emit('tasks:lease-lost', { queue: this.queue.name, id, attempt: r.attempt });
      }
    } catch (error) {
      this.reportError('extend', error);
    } finally {
      this.extending = false;
    }
  }

  private reportError(operation: string, error: unknown): void {
    if (this.queue.kit.state === 'closed') return;
    const coded = toRedisKitError(error, `tasks ${operation}`);
    this.queue.kit.events.emit('tasks:worker-error', { queue: this.queue.name, worker: this.name, operation, error: coded });
    this.queue.kit.noteFailure('tasks', operation, 'closed', coded);
  }
}
