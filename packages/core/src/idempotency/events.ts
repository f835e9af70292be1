/** Events of the idempotency engine, emitted on the context's `events`. Names are `'idempotency:<event>'`. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface IdempotencyEvents {}
