/** Events of the streams engine, emitted on the context's `events`. Names are `'streams:<event>'`. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface StreamEvents {}
