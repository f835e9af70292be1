/** Events of the structures engine, emitted on the context's `events`. Names are `'structures:<event>'`. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface StructuresEvents {}
