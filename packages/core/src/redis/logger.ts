/**
 * Where rediskit writes its few log lines (advisories, Redis failures). Any
 * object with `warn` and `error` fits: console, pino, winston, Nest's Logger.
 */
export interface RedisKitLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
  info?(message: string, meta?: Record<string, unknown>): void;
}

/** The default logger: console with a `[rediskit]` prefix. */
export const consoleLogger: RedisKitLogger = {
  warn: (message, meta) => console.warn(`[rediskit] ${message}`, ...(meta ? [meta] : [])),
  error: (message, meta) => console.error(`[rediskit] ${message}`, ...(meta ? [meta] : [])),
  info: (message, meta) => console.info(`[rediskit] ${message}`, ...(meta ? [meta] : [])),
};

/** A logger that drops everything (`logger: false`). */
export const silentLogger: RedisKitLogger = { warn() {}, error() {}, info() {} };

/**
 * Logs a repeating condition at most once per interval per topic, with the
 * number of occurrences since the last line. An outage must not flood logs
 * with one line per request.
 */
export class ThrottledLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: RedisKitLogger,
    private readonly intervalMs: number,
  ) {}

  error(topic: string, message: string, meta?: Record<string, unknown>): void {
    const now = Date.now();
    const entry = this.last.get(topic);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(topic, { at: now, suppressed: 0 });
    this.logger.error(suppressed > 0 ? `${message} (${suppressed} more since last report)` : message, meta);
  }

  /** Forget a topic so the next occurrence logs at once (after recovery). */
  reset(topic: string): void {
    this.last.delete(topic);
  }
}
