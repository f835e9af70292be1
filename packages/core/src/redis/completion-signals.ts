import { RedisKitError } from '../errors';
import type { RedisKit } from './redis-kit';
import { bounded } from './redis-kit';
import type { RedisClient } from './types';

/** One waiter's interest in one channel; see {@link CompletionSignals.listen}. */
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

interface Listener {
  notify(): void;
  /** In next(), waiting for a message. */
  waiting: boolean;
}

interface Channel {
  listeners: Set<Listener>;
  subscribed: Promise<unknown>;
  /** Set while the channel stays subscribed after its last listener left. */
  linger?: NodeJS.Timeout;
}

/** How a {@link CompletionSignals} wakes its listeners. */
export interface CompletionSignalsOptions {
  /**
   * Keep a channel subscribed this long (ms) after its last listener left,
   * so a busy channel is not unsubscribed and subscribed again per wait.
   * Default 0.
   */
  linger?: number;
  /**
   * Wake one listener per message (one that is waiting, in turn) instead of
   * all of them; the others wait for the next message or their timer. For
   * waiters of which only one can win (a lock). Default false.
   */
  wakeOne?: boolean;
}

/**
 * Wakes waiters without polling Redis: the script that ends what they wait
 * for PUBLISHes on a channel (idempotency: a record completed or released;
 * locks: a lock released with waiters), and one subscriber connection (a
 * `kit.duplicate()`, closed with the context, opened on first use)
 * subscribes to the channels that have waiters, reference-counted, so fifty
 * waiters on one channel cost one SUBSCRIBE. On Cluster, PUBLISH reaches
 * every node, so the subscriber may sit on any of them. A wake-up only says
 * "look again": waiters still re-check in Redis, and keep a timer for what
 * publishes nothing (an expiry).
 */
export class CompletionSignals {
  private client: RedisClient | undefined;
  private readonly channels = new Map<string, Channel>();
  private readonly linger: number;
  private readonly wakeOne: boolean;

  constructor(
    private readonly kit: RedisKit,
    options: CompletionSignalsOptions = {},
  ) {
    this.linger = options.linger ?? 0;
    this.wakeOne = options.wakeOne ?? false;
  }

  private deliver(c: Channel): void {
    if (!this.wakeOne) {
      for (const listener of [...c.listeners]) listener.notify();
      return;
    }
    let chosen: Listener | undefined;
    for (const listener of c.listeners) {
      chosen ??= listener;
      if (listener.waiting) {
        chosen = listener;
        break;
      }
    }
    if (!chosen) return;
    // To the back of the line: the next message wakes another waiter.
    c.listeners.delete(chosen);
    c.listeners.add(chosen);
    chosen.notify();
  }

  private connection(): RedisClient {
    if (!this.client) {
      const client = this.kit.duplicate();
      client.on('message', (channel: string) => {
        const c = this.channels.get(channel);
        if (c) this.deliver(c);
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
    const listener: Listener = {
      waiting: false,
      notify: () => {
        pending = true;
        wakeUp?.();
      },
    };
    let c = this.channels.get(channel);
    if (c?.linger) {
      clearTimeout(c.linger);
      c.linger = undefined;
    }
    if (!c) {
      const created: Channel = { listeners: new Set(), subscribed: Promise.resolve() };
      created.subscribed = this.whenReady(client, timeoutMs).then(() => bounded(client.subscribe(channel), timeoutMs));
      // A failed subscription must not stay cached for later waiters.
      created.subscribed.catch(() => {
        if (this.channels.get(channel) === created && created.listeners.size === 0) this.drop(channel, created, client, false);
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
        if (this.linger > 0) {
          entry.linger = setTimeout(() => {
            entry.linger = undefined;
            if (entry.listeners.size === 0 && this.channels.get(channel) === entry) this.drop(channel, entry, client, true);
          }, this.linger);
          entry.linger.unref();
        } else {
          this.drop(channel, entry, client, true);
        }
      }
    };
    try {
      await entry.subscribed;
    } catch (error) {
      close();
      if (this.channels.get(channel) === entry) this.drop(channel, entry, client, false);
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
          listener.waiting = true;
          const timer = setTimeout(() => {
            wakeUp = undefined;
            listener.waiting = false;
            resolve(false);
          }, Math.max(1, ms));
          wakeUp = () => {
            clearTimeout(timer);
            wakeUp = undefined;
            listener.waiting = false;
            pending = false;
            resolve(!closed);
          };
        }),
      close,
    };
  }

  private drop(channel: string, entry: Channel, client: RedisClient, unsubscribe: boolean): void {
    if (entry.linger) clearTimeout(entry.linger);
    entry.linger = undefined;
    this.channels.delete(channel);
    if (unsubscribe && client.status === 'ready') client.unsubscribe(channel).catch(() => {});
  }

  /** Channels with listeners, for tests and health pages. */
  get listening(): number {
    let n = 0;
    for (const c of this.channels.values()) if (c.listeners.size > 0) n++;
    return n;
  }
}
