/** Events of the tasks engine, emitted on the context's `events`. Names are `'tasks:<event>'`. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface TaskEvents {}
