/** What every idempotency event carries: the request's method and path (no query, no key, no principal). */
export interface IdempotencyEventBase {
  method: string;
  path: string;
}

/** Events of the idempotency engine, emitted on the context's `events`. Names are `'idempotency:<event>'`. */
export interface IdempotencyEvents {
  /** A request claimed its key; its handler runs. */
  'idempotency:claimed': IdempotencyEventBase;
  /**
   * A retry was answered from a completed record: the stored response with
   * `Idempotent-Replayed: true`, or the 409 `idempotency-response-not-stored`
   * when only the outcome was kept. `waited` is true in wait mode.
   */
  'idempotency:replayed': IdempotencyEventBase & { status: number; waited: boolean };
  /**
   * A duplicate arrived while the first request was in flight. `waiting` is
   * true when it starts waiting (wait mode), false when it is answered 409.
   */
  'idempotency:conflict': IdempotencyEventBase & { waiting: boolean; retryAfter: number };
  /** The key was reused with a different request (answered 422). */
  'idempotency:mismatch': IdempotencyEventBase;
  /** The handler's response was stored for replay (`stored: false`: only its outcome, see `oversize`). */
  'idempotency:completed': IdempotencyEventBase & { status: number; bytes: number; stored: boolean };
  /** The key was given up so a retry runs again: the handler threw, answered a status not stored, or the response broke off. */
  'idempotency:released': IdempotencyEventBase & {
    reason: 'error' | 'status' | 'aborted' | 'too-large';
    status?: number;
  };
  /** The key header was missing on a required route or malformed (answered 400). */
  'idempotency:rejected': IdempotencyEventBase & { reason: 'missing' | 'invalid' };
  /**
   * The in-progress lease could not be kept: it lapsed (Redis was unreachable
   * for longer than the lease) and the record was gone or taken by a retry
   * when the lease was renewed or the response stored (`lost`), or the
   * handler ran past `maxProcessingTime` (`timeout`).
   */
  'idempotency:lease-lost': IdempotencyEventBase & { reason: 'lost' | 'timeout' };
}

export type IdempotencyEventName = keyof IdempotencyEvents;
