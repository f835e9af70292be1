import { assertKnownOptions, invalidOption, optEnum, optNumber, optString } from '../options';

/** Options of a stream (`createStreams(kit, options)`, `streams.stream(name, options)`). */
export interface StreamOptions {
  /**
   * Approximate length cap: on publish, entries beyond it are trimmed from the
   * oldest, except entries a consumer group has not acknowledged or not read
   * yet. Trimming runs once the stream is over by max(1, min(100, maxLen / 10)).
   * Default: no length cap.
   */
  maxLen?: number;
  /** Age cap in ms: entries older than this are trimmed on publish (whole nodes, like `MINID ~`), with the same exception. Default: none. */
  maxAge?: number;
  /** How long a producer dedupe id (`publish(event, { id })`) is remembered, in ms. Default 3_600_000 (1 hour). */
  dedupeTtl?: number;
  /** Approximate length cap of the dead-letter stream. Default 10_000. */
  deadLetterMaxLen?: number;
  /** Timeout of `publish` and the other producer calls, in ms. Default: the context's `operationTimeout`. */
  timeout?: number;
}

/** Options of a consumer (`stream.consume(group, handler, options)`). */
export interface ConsumerOptions {
  /** Handlers running at once in this consumer. Default 1. */
  concurrency?: number;
  /**
   * An entry pending this long without a heartbeat is taken as abandoned (its
   * consumer died or hangs) and claimed by another consumer, in ms. Running
   * handlers refresh their entries every `minIdle / 3`. A failed entry is
   * also retried after this long. Default 30_000.
   */
  minIdle?: number;
  /** Deliveries after which a failing entry goes to the dead-letter stream. Default 5. */
  maxDeliveries?: number;
  /** Longest single blocking read, in ms. Default 5000. */
  block?: number;
  /** How often to look for abandoned entries (XAUTOCLAIM), in ms. Default `min(minIdle / 2, 10_000)`. */
  claimInterval?: number;
  /** Where a group created by this consumer starts: `'oldest'` entry still in the stream, or only `'newest'` (entries added from now). Default 'oldest'. */
  startFrom?: 'oldest' | 'newest';
  /** On `close()`, how long to let running handlers finish before their entries are released to other consumers, in ms. Default 10_000. */
  shutdownTimeout?: number;
  /** Consumers of the group idle this long with no pending entries are deleted from it, in ms. Default 300_000. */
  consumerTimeout?: number;
  /** How long past its bound a blocking read may hang before its connection is replaced, in ms. Default `max(2000, block)`. */
  watchdogGrace?: number;
  /** Timeout of the consumer's non-blocking Redis operations (ack, claim, heartbeat), in ms. Default 5000. */
  commandTimeout?: number;
  /** Consumer name. Default `<host>:<pid>:<random per process>` (with `#n` for a second consumer of the same group in one process). */
  name?: string;
}

export interface ResolvedStreamOptions {
  readonly maxLen: number;
  readonly maxAge: number;
  readonly dedupeTtl: number;
  readonly deadLetterMaxLen: number;
  readonly timeout: number;
}

export interface ResolvedConsumerOptions {
  readonly concurrency: number;
  readonly minIdle: number;
  readonly maxDeliveries: number;
  readonly block: number;
  readonly claimInterval: number;
  readonly startFrom: 'oldest' | 'newest';
  readonly shutdownTimeout: number;
  readonly consumerTimeout: number;
  readonly watchdogGrace: number;
  readonly commandTimeout: number;
  readonly name: string | undefined;
}

const STREAM_OPTIONS = ['maxLen', 'maxAge', 'dedupeTtl', 'deadLetterMaxLen', 'timeout'] as const;
const CONSUMER_OPTIONS = [
  'concurrency',
  'minIdle',
  'maxDeliveries',
  'block',
  'claimInterval',
  'startFrom',
  'shutdownTimeout',
  'consumerTimeout',
  'watchdogGrace',
  'commandTimeout',
  'name',
] as const;
const DAY = 86_400_000;

/** Validates stream options (throws coded errors) and fills in defaults. */
export function resolveStreamOptions(where: string, options: StreamOptions | undefined, operationTimeout: number): ResolvedStreamOptions {
  assertKnownOptions(where, options, STREAM_OPTIONS);
  const o = options ?? {};
  return Object.freeze({
    maxLen: optNumber(where, 'maxLen', o.maxLen, 0, { integer: true, min: 1 }),
    maxAge: optNumber(where, 'maxAge', o.maxAge, 0, { integer: true, min: 1 }),
    dedupeTtl: optNumber(where, 'dedupeTtl', o.dedupeTtl, 3_600_000, { integer: true, min: 1, max: 365 * DAY }),
    deadLetterMaxLen: optNumber(where, 'deadLetterMaxLen', o.deadLetterMaxLen, 10_000, { integer: true, min: 1 }),
    timeout: optNumber(where, 'timeout', o.timeout, operationTimeout, { min: 1, max: 60_000 }),
  });
}

/** Validates consumer options (throws coded errors) and fills in defaults. */
export function resolveConsumerOptions(where: string, options: ConsumerOptions | undefined): ResolvedConsumerOptions {
  assertKnownOptions(where, options, CONSUMER_OPTIONS);
  const o = options ?? {};
  const minIdle = optNumber(where, 'minIdle', o.minIdle, 30_000, { integer: true, min: 100, max: DAY });
  const block = optNumber(where, 'block', o.block, 5000, { integer: true, min: 10, max: 60_000 });
  const name = optString(where, 'name', o.name, undefined, { pattern: /^[^\s]{1,200}$/, describe: 'a name of 1 to 200 characters without spaces' });
  const claimInterval = optNumber(where, 'claimInterval', o.claimInterval, Math.min(Math.floor(minIdle / 2), 10_000), {
    integer: true,
    min: 10,
    max: DAY,
  });
  if (claimInterval > minIdle) invalidOption(where, 'claimInterval', `at most minIdle (${minIdle})`, claimInterval);
  return Object.freeze({
    concurrency: optNumber(where, 'concurrency', o.concurrency, 1, { integer: true, min: 1, max: 10_000 }),
    minIdle,
    maxDeliveries: optNumber(where, 'maxDeliveries', o.maxDeliveries, 5, { integer: true, min: 1, max: 1_000_000 }),
    block,
    claimInterval,
    startFrom: optEnum(where, 'startFrom', o.startFrom, ['oldest', 'newest'] as const, 'oldest'),
    shutdownTimeout: optNumber(where, 'shutdownTimeout', o.shutdownTimeout, 10_000, { min: 0, max: DAY }),
    consumerTimeout: optNumber(where, 'consumerTimeout', o.consumerTimeout, 300_000, { integer: true, min: 100, max: 365 * DAY }),
    watchdogGrace: optNumber(where, 'watchdogGrace', o.watchdogGrace, Math.max(2000, block), { min: 100, max: 600_000 }),
    commandTimeout: optNumber(where, 'commandTimeout', o.commandTimeout, 5000, { min: 1, max: 60_000 }),
    name,
  });
}
