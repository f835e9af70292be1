import type { StructureKind } from './shared';

/**
 * Events of the structures engine, emitted on the context's `events`. Names
 * are `'structures:<event>'`. Failures of any structure are reported by the
 * core `store-error` event with `feature: 'structures'`.
 *
 * @example
 * kit.events.on('structures:combined-rebuilt', ({ name, members }) => metrics.rebuilds.inc({ name }));
 */
export interface StructuresEvents {
  /**
   * The app server's clock was more than one period away from the Redis
   * clock, so a time-boxed call was retried once with the Redis time.
   * `skewMs` is Redis time minus app time.
   */
  'structures:clock-skew': { structure: StructureKind; name: string; skewMs: number };
  /** A combined leaderboard was recomputed with ZUNIONSTORE (a cache miss). */
  'structures:combined-rebuilt': { name: string; periods: number; members: number };
  /** `reset` (or a leaderboard `clear`) deleted a structure's data. */
  'structures:reset': { structure: StructureKind; name: string; id: string; keys: number };
}
