export type { StructuresEvents } from './events';
export { Period, type PeriodOption } from './periods';
export type { StructureKind, TtlMode, CommonOptions, ExpiryOptions } from './shared';
export { Counter, createCounter, type CounterOptions, type ResolvedCounterOptions } from './counter';
export {
  WindowedCounter,
  createWindowedCounter,
  type WindowedCounterOptions,
  type ResolvedWindowedCounterOptions,
  type WindowCount,
} from './windowed-counter';
export {
  UniqueCounter,
  createUniqueCounter,
  type UniqueCounterOptions,
  type ResolvedUniqueCounterOptions,
  type UniqueAdd,
  type UniqueRead,
} from './unique-counter';
export {
  BitmapFlags,
  createBitmapFlags,
  type BitmapFlagsOptions,
  type ResolvedBitmapFlagsOptions,
  type FlagSet,
  type FlagsRead,
} from './bitmap-flags';
export {
  Leaderboard,
  createLeaderboard,
  type LeaderboardOptions,
  type ResolvedLeaderboardOptions,
  type LeaderboardEntry,
  type LeaderboardReader,
  type ScoreUpdate,
  type PeriodReadOptions,
  type RankOptions,
  type CombinedOptions,
  type TieRanking,
} from './leaderboard';
export { Structures, structures } from './structures';
