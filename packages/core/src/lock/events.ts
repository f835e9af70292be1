/** Events of the lock engine, emitted on the context's `events`. Names are `'lock:<event>'`. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface LockEvents {}
