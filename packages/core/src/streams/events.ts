import type { RedisKitError } from '../errors';

/** Events of the streams engine, emitted on the context's `events`. Names are `'streams:<event>'`. */
export interface StreamEvents {
  /** `publish()` appended an entry (`duplicate: true`: the dedupe id was seen, nothing appended). */
  'streams:published': { stream: string; id: string; duplicate: boolean };
  /** Trimming stopped short so as not to drop entries a group has not acknowledged (or not read yet). */
  'streams:trim-held': { stream: string; kept: number };
  /** A handler succeeded and this consumer acknowledged the entry (not emitted when another delivery already had). */
  'streams:acked': { stream: string; group: string; id: string; deliveries: number };
  /** A handler failed; the entry stays pending and is delivered again once idle for `minIdle`. */
  'streams:failed': { stream: string; group: string; id: string; deliveries: number; error: string };
  /** An entry went to the dead-letter stream after `maxDeliveries` deliveries, and was acknowledged. */
  'streams:dead-letter': { stream: string; group: string; id: string; deliveries: number; error: string };
  /** Entries idle in dead or stuck consumers were claimed by this consumer. */
  'streams:claimed': { stream: string; group: string; consumer: string; count: number };
  /** An entry being handled was claimed by another consumer (this one looked dead); its `signal` is aborted. */
  'streams:lost': { stream: string; group: string; consumer: string; id: string };
  /** Consumers idle with no pending entries were deleted from the group. */
  'streams:consumers-pruned': { stream: string; group: string; consumers: string[] };
  /** A consumer's Redis operation failed; it waits and tries again by itself. */
  'streams:consumer-error': { stream: string; group: string; consumer: string; operation: string; error: RedisKitError };
  /** A blocking read hung past its bound and its connection was replaced. */
  'streams:watchdog': { stream: string; group: string; consumer: string; waitedMs: number };
}
