import { RedisKitError } from '../errors';
import type { RedisKit } from '../redis/redis-kit';
import { bounded } from '../redis/redis-kit';
import type { RedisClient } from '../redis/types';

/** One request's interest in one key's channel; see {@link CompletionSignals.listen}. */
export interface Signal {
  /**
   * Resolves `true` as soon as the key's record completes or is released
   * (also for a message that arrived since the last call), `false` after
   * `ms` without one.
   */
  next(ms: number): Promise<boolean>;
  /** Stops listening; the channel is unsubscribed when nobody listens any more. */
  close(): void;
}

interface Channel {
  listeners: Set<() => void>;
  subscribed: Promise<unknown>;
}

/**
 * Wakes waiting duplicates when the first request's record completes or is
 * released, without polling Redis: the complete and release scripts PUBLISH
 * on a per-key channel, and one subscriber connection per engine (a
 * `kit.duplicate()`, closed with the context) subscribes to the channels that
 * have waiters, reference-counted, so fifty waiters on one key cost one
 * SUBSCRIBE. On Cluster, PUBLISH reaches every node, so the subscriber may sit
 * on any of them.
 */
export class CompletionSignals {
  private client: RedisClient | undefined;
  private readonly channels = new Map<string, Channel>();

  constructor(private readonly kit: RedisKit) {}

  private connection(): RedisClient {
    if (!this.client) {
      const client = this.kit.duplicate();
      client.on('message', (channel: string) => {
        const c = this.channels.get(channel);
        if (c) for (const wake of [...c.listeners]) wake();
      });
      this.client = client;
      client.once('end', () => {
        if (this.client === client) this.client = undefined;
      });
    }
    return this.client;
  }

  private async whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
    if (client.status === 'ready') return;
    await bounded(
      new Promise<void>((resolve, reject) => {
        const onReady = () => {
          client.off('end', onEnd);
          resolve();
        };
        const onEnd = () => {
          client.off('ready', onReady);
          reject(new RedisKitError('ERR_REDISKIT_UNAVAILABLE', 'subscriber connection ended'));
        };
        client.once('ready', onReady);
        client.once('end', onEnd);
      }),
      timeoutMs,
    );
  }

  /**
   * Subscribes to `channel` (bounded by `timeoutMs`) and returns a handle
   * whose `next()` resolves on the next message. Rejects with a coded
   * RedisKitError when the subscription cannot be made; the caller then
   * answers 409 instead of waiting.
   */
  async listen(channel: string, timeoutMs: number): Promise<Signal> {
    if (this.kit.state === 'closed') throw new RedisKitError('ERR_REDISKIT_CLOSED');
    const client = this.connection();
    let pending = false;
    let wakeUp: (() => void) | undefined;
    const listener = () => {
      pending = true;
      wakeUp?.();
    };
    let c = this.channels.get(channel);
    if (!c) {
      const created: Channel = { listeners: new Set(), subscribed: Promise.resolve() };
      created.subscribed = this.whenReady(client, timeoutMs).then(() => bounded(client.subscribe(channel), timeoutMs));
      // A failed subscription must not stay cached for later waiters.
      created.subscribed.catch(() => {
        if (this.channels.get(channel) === created && created.listeners.size === 0) this.channels.delete(channel);
      });
      this.channels.set(channel, created);
      c = created;
    }
    const entry = c;
    entry.listeners.add(listener);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      entry.listeners.delete(listener);
      wakeUp?.();
      if (entry.listeners.size === 0 && this.channels.get(channel) === entry) {
        this.channels.delete(channel);
        if (client.status === 'ready') client.unsubscribe(channel).catch(() => {});
      }
    };
    try {
      await entry.subscribed;
    } catch (error) {
      close();
      if (this.channels.get(channel) === entry) this.channels.delete(channel);
      throw error instanceof RedisKitError
        ? error
        : new RedisKitError('ERR_REDISKIT_UNAVAILABLE', `subscribe failed: ${String((error as Error)?.message ?? error)}`, {
            cause: error,
          });
    }
    return {
      next: (ms: number) =>
        new Promise<boolean>((resolve) => {
          if (pending || closed) {
            pending = false;
            resolve(!closed);
            return;
          }
          const timer = setTimeout(() => {
            wakeUp = undefined;
            resolve(false);
          }, Math.max(1, ms));
          wakeUp = () => {
            clearTimeout(timer);
            wakeUp = undefined;
            pending = false;
            resolve(!closed);
          };
        }),
      close,
    };
  }

  /** Channels with listeners, for tests and health pages. */
  get listening(): number {
    return this.channels.size;
  }
}
