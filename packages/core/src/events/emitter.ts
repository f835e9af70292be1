import { EventEmitter } from 'node:events';
import type { RedisKitEventMap, RedisKitEventName } from './event-map';

type Listener<K extends RedisKitEventName> = (payload: RedisKitEventMap[K]) => void;
type AnyListener = <K extends RedisKitEventName>(name: K, payload: RedisKitEventMap[K]) => void;

/**
 * The typed event emitter of one context. A listener that throws never breaks
 * the request that emitted the event: the error goes to `onListenerError`.
 *
 * @example
 * kit.events.on('cache:hit', ({ key }) => hits.inc());
 * kit.events.onAny((name) => counters[name] = (counters[name] ?? 0) + 1);
 */
export class RedisKitEvents {
  private readonly emitter = new EventEmitter();
  private readonly anyListeners = new Set<AnyListener>();

  constructor(private readonly onListenerError: (error: unknown, event: string) => void = () => {}) {
    // Many features and many app parts listen to one context.
    this.emitter.setMaxListeners(0);
  }

  on<K extends RedisKitEventName>(event: K, listener: Listener<K>): this {
    this.emitter.on(event, listener);
    return this;
  }

  once<K extends RedisKitEventName>(event: K, listener: Listener<K>): this {
    this.emitter.once(event, listener);
    return this;
  }

  off<K extends RedisKitEventName>(event: K, listener: Listener<K>): this {
    this.emitter.off(event, listener);
    return this;
  }

  /** Listens to every event; returns a function that removes the listener. */
  onAny(listener: AnyListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  listenerCount(event: RedisKitEventName): number {
    return this.emitter.listenerCount(event) + this.anyListeners.size;
  }

  /** Emits synchronously; listener errors are reported, never thrown to the emitter. */
  emit<K extends RedisKitEventName>(event: K, payload: RedisKitEventMap[K]): void {
    // Engines emit on every request; most events have no listener.
    if (this.anyListeners.size === 0 && this.emitter.listenerCount(event) === 0) return;
    for (const listener of this.emitter.rawListeners(event) as Listener<K>[]) {
      try {
        listener(payload);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
    for (const listener of this.anyListeners) {
      try {
        listener(event, payload);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }

  removeAllListeners(): void {
    this.emitter.removeAllListeners();
    this.anyListeners.clear();
  }
}
