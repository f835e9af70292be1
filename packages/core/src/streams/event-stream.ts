import { RedisKitError } from '../errors';
import { LUA } from '../generated/lua';
import type { EntityKeys } from '../keys';
import { invalidOption, optNumber } from '../options';
import type { RedisKit } from '../redis/redis-kit';
import { failClosed } from '../redis/fail-policy';
import { checkArguments } from './arguments';
import { defineScript } from '../redis/script';
import { resolveStreamOptions, type ConsumerOptions, type ResolvedStreamOptions, type StreamOptions } from './options';
import { StreamConsumer, type StreamHandler } from './stream-consumer';

const publishScript = defineScript<[string, number, number, number]>(LUA.streamPublish);
const redriveScript = defineScript<string | null>(LUA.streamRedrive);

/** Options of {@link EventStream.publish}. */
export interface PublishOptions {
  /**
   * Producer dedupe id: a second publish with the same id within `dedupeTtl`
   * appends nothing and returns the first entry's id. Makes a retried publish
   * (after a timeout whose outcome is unknown) safe.
   */
  id?: string;
}

/** What {@link EventStream.publish} did. */
export interface PublishResult {
  /** The stream entry id (`<ms>-<seq>`), of the first publish when `duplicate`. */
  id: string;
  duplicate: boolean;
}

/** An entry of the dead-letter stream. */
export interface DeadLetter<T = unknown> {
  /** Id in the dead-letter stream (for `redrive`). */
  deadLetterId: string;
  /** Id the entry had in the stream. */
  id: string;
  group: string;
  consumer: string;
  deliveries: number;
  error: string;
  failedAt: number;
  /** The event (decoded), or the raw fields for an entry not written by `publish`. */
  data: T;
  fields: Record<string, string>;
}

/** One consumer group, as `XINFO GROUPS` reports it. */
export interface GroupInfo {
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  /** Entries not yet delivered to the group (null when Redis cannot tell). */
  lag: number | null;
}

/** The keys of one stream, under one hash tag. */
export interface EventStreamKeys {
  readonly stream: string;
  readonly deadLetter: string;
}

const consumerSlots = new Map<string, Set<number>>();

/**
 * One named Redis stream of events, with its dead-letter stream, both under
 * one hash tag. `publish` appends (fail closed: it rejects with a coded error
 * when Redis fails, and a timed-out publish may still have been appended:
 * retry with the same dedupe `id`). `consume` starts a consumer in a group.
 * The stream is owned by the app: it is trimmed by `maxLen` / `maxAge` on
 * publish and deleted by `destroy()`.
 *
 * @example
 * const orders = createStreams(kit).stream<{ orderId: string; total: number }>('orders', { maxLen: 100_000 });
 * await orders.publish({ orderId: 'o1', total: 42 }, { id: 'order-created:o1' });
 * const consumer = orders.consume('billing', async (msg) => bill(msg.data), { concurrency: 4 });
 * // on shutdown
 * await consumer.close();
 */
export class EventStream<T = unknown> {
  readonly name: string;
  readonly keys: EventStreamKeys;
  readonly options: ResolvedStreamOptions;
  /** The entity whose hash tag the stream's keys share; effect keys for `ackWith` must be built from it (see {@link key}). */
  readonly entity: EntityKeys;
  private readonly consumers = new Set<StreamConsumer<T>>();

  constructor(
    readonly kit: RedisKit,
    name: string,
    options: StreamOptions = {},
  ) {
    const where = 'streams.stream';
    if (typeof name !== 'string' || name.length === 0) invalidOption(where, 'name', 'a non-empty string', name);
    this.name = name;
    this.options = resolveStreamOptions(where, options, kit.options.operationTimeout);
    this.entity = kit.keys.entity('stream', name);
    this.keys = Object.freeze({ stream: this.entity.key('events'), deadLetter: this.entity.key('dead') });
  }

  /**
   * A key in the stream's hash slot, for state a handler changes together with
   * its acknowledgement (`msg.ackWith`). On Redis Cluster only keys sharing the
   * stream's hash tag can be written in the same script.
   *
   * @example
   * const totals = orders.key('totals'); // 'rk:{stream:orders}:totals'
   */
  key(...parts: Array<string | number>): string {
    return this.entity.key('x', ...parts);
  }

  /**
   * Appends `event` (JSON) and trims per `maxLen` / `maxAge`, never dropping an
   * entry a group still needs.
   */
  async publish(event: T, options: PublishOptions = {}): Promise<PublishResult> {
    const where = 'streams.publish';
    checkArguments(() => {
      if (options === null || typeof options !== 'object') invalidOption(where, 'options', 'an object', options);
      for (const k of Object.keys(options)) if (k !== 'id') invalidOption(where, k, 'not given (the only option is id)', k);
      if (options.id !== undefined && (typeof options.id !== 'string' || options.id.length === 0 || options.id.length > 1024)) {
        invalidOption(where, 'id', 'a string of 1 to 1024 characters', options.id);
      }
    });
    let text: string | undefined;
    try {
      text = JSON.stringify(event);
    } catch (error) {
      throw new RedisKitError('ERR_REDISKIT_SERIALIZE', `streams: the event cannot be serialized to JSON: ${String(error)}`, { cause: error });
    }
    if (text === undefined) throw new RedisKitError('ERR_REDISKIT_SERIALIZE', 'streams: the event cannot be serialized to JSON (undefined or a function)');
    const keys = [this.keys.stream];
    if (options.id !== undefined) keys.push(this.entity.key('dedupe', options.id));
    const o = this.options;
    const payload = text;
    const [id, duplicate, kept, ageHeld] = await this.guarded('publish', () =>
      publishScript.run(this.kit, keys, [payload, o.dedupeTtl, o.maxLen, o.maxAge], { timeout: o.timeout }),
    );
    this.kit.events.emit('streams:published', { stream: this.name, id, duplicate: duplicate === 1 });
    if (kept > 0 || ageHeld === 1) this.kit.events.emit('streams:trim-held', { stream: this.name, kept });
    return { id, duplicate: duplicate === 1 };
  }

  /**
   * Starts a consumer in `group` (created if missing) that runs `handler` for
   * each entry: see {@link StreamConsumer}.
   */
  consume(group: string, handler: StreamHandler<T>, options?: ConsumerOptions): StreamConsumer<T> {
    const consumer = new StreamConsumer<T>(this, group, handler, options);
    this.consumers.add(consumer);
    consumer.onClosed(() => this.consumers.delete(consumer));
    return consumer;
  }

  /** Closes every consumer started on this stream object. */
  async closeConsumers(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.close()));
  }

  /** Entries of the dead-letter stream, oldest first. */
  async deadLetters(options: { count?: number; after?: string } = {}): Promise<Array<DeadLetter<T>>> {
    const count = checkArguments(() => optNumber('streams.deadLetters', 'count', options.count, 100, { integer: true, min: 1, max: 10_000 }));
    const start = options.after ? `(${options.after}` : '-';
    const rows = (await this.kit.exec((redis) => redis.xrange(this.keys.deadLetter, start, '+', 'COUNT', count), {
      operation: 'streams deadLetters',
      timeout: this.options.timeout,
    })) as Array<[string, string[]]>;
    return rows.map(([deadLetterId, flat]) => {
      const all = pairs(flat);
      const fields: Record<string, string> = {};
      for (const [k, v] of Object.entries(all)) if (k.startsWith('field:')) fields[k.slice(6)] = v;
      return {
        deadLetterId,
        id: all['source-id'] ?? '',
        group: all.group ?? '',
        consumer: all.consumer ?? '',
        deliveries: Number(all.deliveries ?? 0),
        error: all.error ?? '',
        failedAt: Number(all['failed-at'] ?? 0),
        data: decodeFields<T>(fields).data,
        fields,
      };
    });
  }

  /** Publishes a dead letter's event again (as a new entry) and removes it from the dead-letter stream. Resolves the new id, or null. */
  async redrive(deadLetterId: string): Promise<string | null> {
    checkArguments(() => {
      if (typeof deadLetterId !== 'string' || !/^\d+-\d+$/.test(deadLetterId)) {
        invalidOption('streams.redrive', 'deadLetterId', 'a stream entry id', deadLetterId);
      }
    });
    const id = await this.guarded('redrive', () =>
      redriveScript.run(this.kit, [this.keys.stream, this.keys.deadLetter], [deadLetterId], { timeout: this.options.timeout }),
    );
    return id ?? null;
  }

  /** The stream's consumer groups (empty when the stream does not exist). */
  async groups(): Promise<GroupInfo[]> {
    let rows: unknown[];
    try {
      rows = (await this.kit.exec((redis) => redis.xinfo('GROUPS', this.keys.stream), {
        operation: 'streams groups',
        timeout: this.options.timeout,
      })) as unknown[];
    } catch (error) {
      if (error instanceof RedisKitError && /no such key/i.test(error.message)) return [];
      throw error;
    }
    return rows.map((row) => {
      const f = pairs(row as unknown[]);
      return {
        name: String(f.name),
        consumers: Number(f.consumers),
        pending: Number(f.pending),
        lastDeliveredId: String(f['last-delivered-id']),
        lag: f.lag === null || f.lag === undefined ? null : Number(f.lag),
      };
    });
  }

  /** Consumers of `group`, as `XINFO CONSUMERS` reports them. */
  async consumersOf(group: string): Promise<Array<{ name: string; pending: number; idle: number }>> {
    const rows = (await this.kit.exec((redis) => redis.xinfo('CONSUMERS', this.keys.stream, group), {
      operation: 'streams consumers',
      timeout: this.options.timeout,
    })) as unknown[];
    return rows.map((row) => {
      const f = pairs(row as unknown[]);
      return { name: String(f.name), pending: Number(f.pending), idle: Number(f.idle) };
    });
  }

  /** Deletes a consumer group (its pending entries are forgotten). A group nobody reads holds back trimming: delete it. */
  async deleteGroup(group: string): Promise<boolean> {
    const n = await this.kit.exec((redis) => redis.xgroup('DESTROY', this.keys.stream, group), {
      operation: 'streams deleteGroup',
      timeout: this.options.timeout,
    });
    return Number(n) === 1;
  }

  /** Number of entries in the stream. */
  async length(): Promise<number> {
    return this.kit.exec((redis) => redis.xlen(this.keys.stream), { operation: 'streams length', timeout: this.options.timeout });
  }

  /**
   * Deletes the stream, its groups and its dead-letter stream. Producer dedupe
   * keys expire by themselves. Close consumers first.
   */
  async destroy(): Promise<void> {
    await this.kit.exec((redis) => redis.del(this.keys.stream, this.keys.deadLetter), {
      operation: 'streams destroy',
      timeout: Math.max(this.options.timeout, 1000),
    });
  }

  /** Runs a producer call under the fail-closed policy (feature `streams`): see {@link failClosed}. */
  private guarded<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    return failClosed(this.kit, 'streams', operation, fn);
  }

  /** @internal Allocates the per-process consumer name of a new consumer of `group`. */
  claimConsumerName(group: string, base: string): { name: string; release: () => void } {
    const slotKey = `${this.kit.keys.prefix}\u0000${this.name}\u0000${group}\u0000${base}`;
    let used = consumerSlots.get(slotKey);
    if (!used) consumerSlots.set(slotKey, (used = new Set()));
    let slot = 0;
    while (used.has(slot)) slot++;
    used.add(slot);
    const set = used;
    let released = false;
    return {
      name: slot === 0 ? base : `${base}#${slot}`,
      release: () => {
        if (released) return;
        released = true;
        set.delete(slot);
        if (set.size === 0 && consumerSlots.get(slotKey) === set) consumerSlots.delete(slotKey);
      },
    };
  }
}

/** `[k1, v1, k2, v2]` → `{ k1: v1, k2: v2 }`. */
export function pairs(flat: readonly unknown[]): Record<string, any> {
  const out: Record<string, any> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

/** Decodes an entry written by `publish` (field `d`, JSON); other entries give their fields as `data`. */
export function decodeFields<T>(fields: Record<string, string>): { data: T; error?: string } {
  if (typeof fields.d === 'string' && Object.keys(fields).length === 1) {
    try {
      return { data: JSON.parse(fields.d) as T };
    } catch {
      return { data: fields as unknown as T, error: 'the event is not valid JSON' };
    }
  }
  return { data: fields as unknown as T };
}
