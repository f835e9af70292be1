/** Events of the rate-limit engine, emitted on the context's `events`. Names are `'rate-limit:<event>'`. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface RateLimitEvents {}
