import type { RedisKit } from '../redis/redis-kit';
import { EventStream, type PublishOptions, type PublishResult } from './event-stream';
import type { ConsumerOptions, StreamOptions } from './options';
import type { StreamConsumer, StreamHandler } from './stream-consumer';

/**
 * Reliable event streams by name, over one context: the entry point for apps
 * (and what the NestJS module injects). Streams are created on first use with
 * the defaults given here.
 *
 * @example
 * const streams = createStreams(kit, { maxLen: 100_000 });
 * await streams.publish('orders', { orderId: 'o1', total: 42 });
 * streams.consume('orders', 'billing', async (msg) => bill(msg.data), { concurrency: 4 });
 * await streams.close(); // on shutdown: closes the consumers
 */
export class Streams {
  private readonly streams = new Map<string, EventStream<unknown>>();

  constructor(
    readonly kit: RedisKit,
    private readonly defaults: StreamOptions = {},
  ) {
    // Validate the defaults now, not on first use.
    new EventStream(kit, 'defaults-check', defaults);
  }

  /** The stream named `name` (one instance per name; `options` apply when it is first created). */
  stream<T = unknown>(name: string, options?: StreamOptions): EventStream<T> {
    let s = this.streams.get(name);
    if (!s) {
      s = new EventStream<unknown>(this.kit, name, { ...this.defaults, ...(options ?? {}) });
      this.streams.set(name, s);
    }
    return s as EventStream<T>;
  }

  /** {@link EventStream.publish} on stream `stream`. */
  publish<T>(stream: string, event: T, options?: PublishOptions): Promise<PublishResult> {
    return this.stream<T>(stream).publish(event, options);
  }

  /** {@link EventStream.consume} on stream `stream`. */
  consume<T>(stream: string, group: string, handler: StreamHandler<T>, options?: ConsumerOptions): StreamConsumer<T> {
    return this.stream<T>(stream).consume(group, handler, options);
  }

  /** Closes every consumer started through this object (graceful: see {@link StreamConsumer.close}). */
  async close(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => s.closeConsumers()));
  }
}

/**
 * Creates the streams entry point of a context. See {@link Streams}.
 *
 * @example
 * const streams = createStreams(kit, { maxLen: 100_000, dedupeTtl: 86_400_000 });
 */
export function createStreams(kit: RedisKit, defaults?: StreamOptions): Streams {
  return new Streams(kit, defaults);
}
