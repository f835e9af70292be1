/** Events of the session engine, emitted on the context's `events`. Names are `'session:<event>'`. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface SessionEvents {}
