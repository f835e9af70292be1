import { RedisKitError, isRedisKitError } from '../errors';
import { LUA } from '../generated/lua';
import { invalidOption } from '../options';
import { errorText, loopBackoff, processIdentity, Sleeper } from '../redis/background';
import { BlockingConnection } from '../redis/blocking-connection';
import { toRedisKitError } from '../redis/errors-map';
import { assertSameSlot, defineScript, type ScriptArg } from '../redis/script';
import { checkArguments } from './arguments';
import { decodeFields, pairs, type EventStream } from './event-stream';
import { resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions } from './options';

type ClaimReply = [string, Array<[string, number, string[]]>, Array<[string, number]>];

const claimScript = defineScript<ClaimReply>(LUA.streamClaim);
const touchScript = defineScript<string[]>(LUA.streamTouch);
const deadLetterScript = defineScript<string | null>(LUA.streamDeadLetter);
const ackEffectScript = defineScript<[number, unknown[]?]>(LUA.streamAckEffect);
const pruneScript = defineScript<string[]>(LUA.streamPruneConsumers);

/** Idle time given to entries released on shutdown, so any consumer's next XAUTOCLAIM takes them. */
const RELEASED_IDLE = 10 * 365 * 86_400_000;

/**
 * One Redis write of an exactly-once effect: `command` on `key` with `args`,
 * e.g. `{ command: 'HINCRBY', key: orders.key('totals'), args: ['eur', 42] }`.
 * The key must share the stream's hash tag: build it with `stream.key(...)`.
 */
export interface EffectCommand {
  command: string;
  key: string;
  args?: ScriptArg[];
}

/** What `ackWith` did. */
export interface EffectResult {
  /** False when the entry was no longer pending (a duplicate delivery already applied the effect): nothing was written. */
  applied: boolean;
  /** Each command's reply, when applied. */
  replies: unknown[];
}

/** What a handler receives: one stream entry. */
export interface StreamMessage<T = unknown> {
  /** Entry id (`<ms>-<seq>`). */
  id: string;
  stream: string;
  group: string;
  consumer: string;
  /** The published event (decoded JSON), or the raw fields for entries not written by `publish`. */
  data: T;
  fields: Record<string, string>;
  /** Deliveries so far, this one included (1 the first time). */
  deliveries: number;
  /** Aborted when another consumer claimed the entry (this one looked dead) or the consumer released it on shutdown. */
  signal: AbortSignal;
  /**
   * Applies `commands` and acknowledges the entry in one Lua script, so the
   * effect happens exactly once per group however often the entry is
   * delivered. Call it at most once, as the handler's last Redis write.
   * Throws ERR_REDISKIT_CROSS_SLOT when a key does not share the stream's hash
   * tag (use `stream.key(...)`).
   */
  ackWith(commands: EffectCommand[]): Promise<EffectResult>;
}

/** Handles one entry. Resolve to acknowledge it; throw to have it delivered again (or dead-lettered after `maxDeliveries`). */
export type StreamHandler<T = unknown> = (message: StreamMessage<T>) => unknown;

interface Handling {
  controller: AbortController;
  released: boolean;
  done: Promise<void>;
}

interface Delivery {
  id: string;
  deliveries: number;
  fields: string[];
}

/**
 * A consumer in a consumer group, started by {@link EventStream.consume}.
 *
 * - creates the group if missing (from the oldest entry, or `startFrom: 'newest'`);
 * - on start (and after a connection error) takes its own pending entries
 *   first, then reads new ones with a bounded blocking XREADGROUP on a
 *   dedicated connection, under a watchdog;
 * - acknowledges an entry after its handler resolves;
 * - every `claimInterval` claims entries idle for `minIdle` in other
 *   consumers (XAUTOCLAIM, following its cursor);
 * - refreshes the idle time of entries being handled every `minIdle / 3`, so
 *   a slow handler keeps them;
 * - sends an entry to the dead-letter stream, acknowledged, once it failed
 *   (or its consumers were lost) `maxDeliveries` times;
 * - deletes consumers of the group idle for `consumerTimeout` with nothing
 *   pending, and itself on `close()` when it has nothing pending.
 *
 * Delivery is at least once. Use `msg.ackWith(...)` for an exactly-once effect.
 *
 * @example
 * const consumer = orders.consume('billing', async (msg) => {
 *   await msg.ackWith([{ command: 'HINCRBY', key: orders.key('totals'), args: ['cents', msg.data.cents] }]);
 * }, { concurrency: 8, minIdle: 30_000, maxDeliveries: 5 });
 * process.once('SIGTERM', () => consumer.close());
 */
export class StreamConsumer<T = unknown> {
  readonly name: string;
  readonly group: string;
  readonly options: ResolvedConsumerOptions;
  private readonly conn: BlockingConnection;
  private readonly handling = new Map<string, Handling>();
  private readonly unacked = new Set<string>();
  private readonly sleeper = new Sleeper();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly loop: Promise<void>;
  private readonly releaseName: () => void;
  private readonly closedCallbacks: Array<() => void> = [];
  private stopping = false;
  private closing: Promise<void> | undefined;
  private touching = false;
  private groupReady = false;
  private recovering = true;
  private ownCursor = '0-0';
  private claimCursor = '0-0';
  private lastClaim = 0;
  private lastPrune = 0;
  private failures = 0;

  constructor(
    private readonly stream: EventStream<T>,
    group: string,
    private readonly handler: StreamHandler<T>,
    options?: ConsumerOptions,
  ) {
    const where = 'streams.consume';
    if (typeof group !== 'string' || group.length === 0 || /\s/.test(group)) invalidOption(where, 'group', 'a non-empty name without spaces', group);
    if (typeof handler !== 'function') invalidOption(where, 'handler', 'a function', handler);
    this.options = resolveConsumerOptions(where, options);
    this.group = group;
    const allocated = stream.claimConsumerName(group, this.options.name ?? processIdentity());
    this.name = allocated.name;
    this.releaseName = allocated.release;
    this.conn = new BlockingConnection(stream.kit, {
      name: `rk-stream:${this.name}`.replace(/[^\w.:#-]/g, '-'),
      watchdogGrace: this.options.watchdogGrace,
      onWatchdog: ({ waitedMs }) =>
        stream.kit.events.emit('streams:watchdog', { stream: stream.name, group, consumer: this.name, waitedMs }),
    });
    this.heartbeat = setInterval(() => void this.touch(), Math.max(30, Math.floor(this.options.minIdle / 3)));
    this.heartbeat.unref();
    stream.kit.events.once('closed', () => this.abandon());
    this.loop = this.run();
  }

  /** Entries whose handlers are running now. */
  get active(): number {
    return this.handling.size;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.stopping;
  }

  /** The dedicated connection of the blocking reads (for diagnostics). */
  get readConnection(): BlockingConnection {
    return this.conn;
  }

  /** @internal */
  onClosed(callback: () => void): void {
    this.closedCallbacks.push(callback);
  }

  /**
   * Graceful shutdown: stops reading, lets running handlers finish for up to
   * `shutdownTimeout` ms (their entries are acknowledged as usual), then
   * releases the unfinished ones to other consumers at once and aborts their
   * signals; finally deletes this consumer from the group if it has nothing
   * pending.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeout ?? this.options.shutdownTimeout);
    return this.closing;
  }

  private get kit() {
    return this.stream.kit;
  }

  private get finished(): boolean {
    return this.stopping || this.kit.state === 'closed';
  }

  private abandon(): void {
    this.stopping = true;
    this.sleeper.wake();
    clearInterval(this.heartbeat);
    void this.conn.close();
    this.releaseName();
  }

  private async shutdown(timeout: number): Promise<void> {
    this.stopping = true;
    this.sleeper.wake();
    // Ends a blocking read in progress; the loop needs the connection no more.
    const connectionClosed = this.conn.close();
    await this.loop;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.handling.values()].map((h) => h.done)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout))),
    ]);
    clearTimeout(timer);
    const unfinished = [...this.handling.entries()];
    for (const [, h] of unfinished) {
      h.released = true;
      h.controller.abort(new RedisKitError('ERR_REDISKIT_CLOSED', 'the consumer shut down; the entry was released to other consumers'));
    }
    if (this.kit.state !== 'closed') {
      try {
        if (unfinished.length > 0) {
          await touchScript.run(this.kit, [this.stream.keys.stream], [this.group, this.name, RELEASED_IDLE, ...unfinished.map(([id]) => id)], {
            timeout: this.options.commandTimeout,
          });
        }
        await this.flushAcks();
        await pruneScript.run(this.kit, [this.stream.keys.stream], [this.group, 0, '', this.name], { timeout: this.options.commandTimeout });
      } catch (error) {
        // Unreleased entries are claimed by others after minIdle; this consumer is pruned later.
        this.report('close', error);
      }
    }
    clearInterval(this.heartbeat);
    await connectionClosed;
    this.releaseName();
    for (const cb of this.closedCallbacks.splice(0)) cb();
  }

  private async run(): Promise<void> {
    const o = this.options;
    while (!this.finished) {
      try {
        if (!this.groupReady) await this.ensureGroup();
        if (this.unacked.size > 0) await this.flushAcks();
        const free = o.concurrency - this.handling.size;
        if (free <= 0) {
          await this.sleeper.sleep(o.block);
          continue;
        }
        if (this.recovering) {
          await this.recoverOwn(free);
          continue;
        }
        if (Date.now() - this.lastClaim >= o.claimInterval) {
          await this.claimIdle(free);
          continue;
        }
        const blockMs = Math.max(10, Math.min(o.block, o.claimInterval - (Date.now() - this.lastClaim)));
        const reply = (await this.conn.run(
          blockMs,
          (redis) =>
            redis.xreadgroup('GROUP', this.group, this.name, 'COUNT', free, 'BLOCK', blockMs, 'STREAMS', this.stream.keys.stream, '>'),
          'streams read',
        )) as Array<[string, Array<[string, string[] | null]>]> | null;
        this.failures = 0;
        this.kit.noteSuccess('streams');
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) if (fields) this.dispatch({ id, deliveries: 1, fields });
        }
      } catch (error) {
        if (this.finished) break;
        const coded = toRedisKitError(error, 'streams read');
        if (/NOGROUP/.test(coded.message)) this.groupReady = false;
        // A reply may have been lost with the connection: re-read own pending entries.
        this.recovering = true;
        this.ownCursor = '0-0';
        if (!(coded.code === 'ERR_REDISKIT_TIMEOUT' && coded.details.watchdog)) this.report('read', coded);
        await this.sleeper.sleep(loopBackoff(this.failures++));
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    const start = this.options.startFrom === 'oldest' ? '0' : '$';
    try {
      await this.kit.exec((redis) => redis.xgroup('CREATE', this.stream.keys.stream, this.group, start, 'MKSTREAM'), {
        operation: 'streams group create',
        timeout: this.options.commandTimeout,
      });
    } catch (error) {
      if (!(isRedisKitError(error) && /BUSYGROUP/.test(error.message))) throw error;
    }
    this.groupReady = true;
  }

  private claimArgs(mode: 'own' | 'idle', cursor: string, count: number, skip: string[] = []): ScriptArg[] {
    const o = this.options;
    return [this.group, this.name, mode, cursor, count, o.minIdle, o.maxDeliveries, this.stream.options.deadLetterMaxLen, ...skip];
  }

  private async recoverOwn(free: number): Promise<void> {
    const skip = [...this.handling.keys(), ...this.unacked];
    const [next, alive, dead] = await claimScript.run(
      this.kit,
      [this.stream.keys.stream, this.stream.keys.deadLetter],
      this.claimArgs('own', this.ownCursor, free, skip),
      { timeout: this.options.commandTimeout },
    );
    this.noteDead(dead);
    for (const [id, deliveries, fields] of alive) this.dispatch({ id, deliveries: Number(deliveries), fields });
    if (next === '0-0') {
      this.recovering = false;
      this.ownCursor = '0-0';
    } else {
      this.ownCursor = next;
    }
  }

  private async claimIdle(free: number): Promise<void> {
    const [next, alive, dead] = await claimScript.run(
      this.kit,
      [this.stream.keys.stream, this.stream.keys.deadLetter],
      this.claimArgs('idle', this.claimCursor, free),
      { timeout: this.options.commandTimeout },
    );
    this.claimCursor = next;
    this.noteDead(dead);
    let taken = 0;
    for (const [id, deliveries, fields] of alive) {
      if (this.dispatch({ id, deliveries: Number(deliveries), fields })) taken++;
    }
    if (taken > 0) this.kit.events.emit('streams:claimed', { stream: this.stream.name, group: this.group, consumer: this.name, count: taken });
    // Keep following the cursor while the pass is not over and found work; otherwise wait for the next interval.
    if (next === '0-0' || alive.length + dead.length === 0) this.lastClaim = Date.now();
    const pruneEvery = Math.min(Math.max(this.options.claimInterval, this.options.consumerTimeout / 2), 60_000);
    if (Date.now() - this.lastPrune >= pruneEvery) {
      this.lastPrune = Date.now();
      const deleted = await pruneScript.run(this.kit, [this.stream.keys.stream], [this.group, this.options.consumerTimeout, this.name, ''], {
        timeout: this.options.commandTimeout,
      });
      if (deleted.length > 0) {
        this.kit.events.emit('streams:consumers-pruned', { stream: this.stream.name, group: this.group, consumers: deleted });
      }
    }
  }

  private noteDead(dead: Array<[string, number]>): void {
    for (const [id, deliveries] of dead) {
      this.kit.events.emit('streams:dead-letter', {
        stream: this.stream.name,
        group: this.group,
        id,
        deliveries: Number(deliveries),
        error: 'delivered too many times without being acknowledged',
      });
    }
  }

  /** Starts a handler for an entry; false when it is already being handled here. */
  private dispatch(delivery: Delivery): boolean {
    if (this.handling.has(delivery.id) || this.unacked.has(delivery.id)) return false;
    const controller = new AbortController();
    const entry: Handling = { controller, released: false, done: Promise.resolve() };
    this.handling.set(delivery.id, entry);
    entry.done = this.handle(delivery, entry).finally(() => {
      if (this.handling.get(delivery.id) === entry) this.handling.delete(delivery.id);
      this.sleeper.wake();
    });
    return true;
  }

  private async handle(delivery: Delivery, entry: Handling): Promise<void> {
    const fields = pairs(delivery.fields) as Record<string, string>;
    const decoded = decodeFields<T>(fields);
    let settled = false;
    let appliedHere = false;
    const message: StreamMessage<T> = {
      id: delivery.id,
      stream: this.stream.name,
      group: this.group,
      consumer: this.name,
      data: decoded.data,
      fields,
      deliveries: delivery.deliveries,
      signal: entry.controller.signal,
      ackWith: async (commands) => {
        if (settled) throw new RedisKitError('ERR_REDISKIT_ALREADY_SETTLED', `streams: entry ${delivery.id} was already acknowledged with ackWith`);
        const result = await this.ackWith(delivery.id, commands);
        settled = true;
        appliedHere = result.applied;
        return result;
      },
    };
    let failure: unknown;
    let ok = false;
    if (decoded.error) {
      // Not our format and not decodable: no retry can fix it.
      await this.deadLetter(delivery.id, Math.max(delivery.deliveries, this.options.maxDeliveries), decoded.error);
      return;
    }
    try {
      await this.handler(message);
      ok = true;
    } catch (error) {
      failure = error;
    }
    if (entry.released) return;
    if (ok) {
      const acked = settled ? appliedHere : await this.ack(delivery.id);
      if (acked) {
        this.kit.events.emit('streams:acked', { stream: this.stream.name, group: this.group, id: delivery.id, deliveries: delivery.deliveries });
      }
      return;
    }
    const error = errorText(failure);
    if (delivery.deliveries >= this.options.maxDeliveries) {
      await this.deadLetter(delivery.id, delivery.deliveries, error);
    } else {
      this.kit.events.emit('streams:failed', { stream: this.stream.name, group: this.group, id: delivery.id, deliveries: delivery.deliveries, error });
    }
  }

  /** Acknowledges; false when the entry was not pending any more or the ack must be retried. */
  private async ack(id: string): Promise<boolean> {
    try {
      const n = await this.kit.exec((redis) => redis.xack(this.stream.keys.stream, this.group, id), {
        operation: 'streams ack',
        timeout: this.options.commandTimeout,
      });
      return Number(n) === 1;
    } catch (error) {
      // Retried before the next read; until then the entry stays pending (and is not re-dispatched here).
      this.unacked.add(id);
      this.report('ack', error);
      return false;
    }
  }

  private async flushAcks(): Promise<void> {
    if (this.unacked.size === 0) return;
    const ids = [...this.unacked];
    await this.kit.exec((redis) => redis.xack(this.stream.keys.stream, this.group, ...ids), {
      operation: 'streams ack',
      timeout: this.options.commandTimeout,
    });
    for (const id of ids) this.unacked.delete(id);
  }

  private async deadLetter(id: string, deliveries: number, error: string): Promise<void> {
    try {
      const moved = await deadLetterScript.run(
        this.kit,
        [this.stream.keys.stream, this.stream.keys.deadLetter],
        [this.group, this.name, id, deliveries, error, this.stream.options.deadLetterMaxLen],
        { timeout: this.options.commandTimeout },
      );
      if (moved) this.kit.events.emit('streams:dead-letter', { stream: this.stream.name, group: this.group, id, deliveries, error });
    } catch (failure) {
      // Still pending: it comes back after minIdle and is dead-lettered then.
      this.report('dead-letter', failure);
    }
  }

  private async ackWith(id: string, commands: EffectCommand[]): Promise<EffectResult> {
    const keys = [this.stream.keys.stream];
    const args: ScriptArg[] = [this.group, id, Array.isArray(commands) ? commands.length : 0];
    checkArguments(() => {
      if (!Array.isArray(commands) || commands.length === 0) {
        invalidOption('streams.ackWith', 'commands', 'a non-empty array of { command, key, args }', commands);
      }
      for (const c of commands) {
        if (!c || typeof c.command !== 'string' || !/^[A-Za-z][A-Za-z.|_-]*$/.test(c.command)) {
          invalidOption('streams.ackWith', 'command', 'a Redis command name', c?.command);
        }
        if (typeof c.key !== 'string' || c.key.length === 0) invalidOption('streams.ackWith', 'key', 'a key built with stream.key(...)', c.key);
        const extra = c.args ?? [];
        if (!Array.isArray(extra)) invalidOption('streams.ackWith', 'args', 'an array', extra);
        let index = keys.indexOf(c.key);
        if (index === -1) {
          keys.push(c.key);
          index = keys.length - 1;
        }
        args.push(c.command, index + 1, extra.length, ...extra);
      }
    });
    try {
      assertSameSlot(keys, 'streams ackWith');
    } catch {
      const stray = keys.find((k, i) => i > 0 && !sameSlot(keys[0]!, k));
      throw new RedisKitError(
        'ERR_REDISKIT_CROSS_SLOT',
        `streams.ackWith: effect key ${JSON.stringify(stray)} is not in the hash slot of stream ${JSON.stringify(this.stream.name)}; ` +
          `build effect keys with stream.key(...) so they share its hash tag {${this.stream.entity.tag}}`,
        { details: { operation: 'streams ackWith', stream: this.stream.name, key: stray } },
      );
    }
    const [applied, replies] = await ackEffectScript.run(this.kit, keys, args, { timeout: this.options.commandTimeout });
    return { applied: applied === 1, replies: replies ?? [] };
  }

  private async touch(): Promise<void> {
    if (this.touching || this.finished || this.kit.state === 'closed') return;
    const ids = [...this.handling.entries()].filter(([, h]) => !h.released).map(([id]) => id);
    if (ids.length === 0) return;
    this.touching = true;
    try {
      const lost = await touchScript.run(this.kit, [this.stream.keys.stream], [this.group, this.name, 0, ...ids], {
        timeout: this.options.commandTimeout,
      });
      for (const id of lost) {
        const h = this.handling.get(id);
        if (!h || h.controller.signal.aborted) continue;
        h.controller.abort(new RedisKitError('ERR_REDISKIT_LEASE_LOST', `stream entry ${id} was claimed by another consumer`));
        this.kit.events.emit('streams:lost', { stream: this.stream.name, group: this.group, consumer: this.name, id });
      }
    } catch (error) {
      this.report('heartbeat', error);
    } finally {
      this.touching = false;
    }
  }

  private report(operation: string, error: unknown): void {
    if (this.kit.state === 'closed') return;
    const coded = toRedisKitError(error, `streams ${operation}`);
    this.kit.events.emit('streams:consumer-error', { stream: this.stream.name, group: this.group, consumer: this.name, operation, error: coded });
    this.kit.noteFailure('streams', operation, 'closed', coded);
  }
}

function sameSlot(a: string, b: string): boolean {
  try {
    assertSameSlot([a, b], 'check');
    return true;
  } catch {
    return false;
  }
}
