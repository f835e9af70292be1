import { LUA } from '../generated/lua';
import type { EntityKeys } from '../keys';
import { assertKnownOptions, invalidOption, optEnum } from '../options';
import type { FailPolicy } from '../redis/fail-policy';
import type { RedisKit } from '../redis/redis-kit';
import { defineScript, type ScriptArg } from '../redis/script';
import type { PeriodOption } from './periods';
import {
  argEnum,
  argFinite,
  argId,
  argInteger,
  periodKeyOf,
  resolveFailPolicy,
  resolveTimeboxed,
  Runner,
  Timebox,
  type CommonOptions,
  type ExpiryOptions,
  type TtlMode,
} from './shared';

const writeScript = defineScript<unknown[]>(LUA.leaderboardWrite);
const readScript = defineScript<unknown[]>(LUA.leaderboardRead);

/** How ranks treat equal scores; see {@link LeaderboardOptions.ties}. */
export type TieRanking = 'shared' | 'ordinal';

/** Options of {@link createLeaderboard}. */
export interface LeaderboardOptions extends CommonOptions, ExpiryOptions {
  /** `'desc'` (default): the highest score ranks first; `'asc'`: the lowest (fastest time) does. */
  order?: 'desc' | 'asc';
  /** Time-box the board: one board per period (UTC, Redis clock), e.g. `'day'` or `'week'`. */
  period?: PeriodOption;
  /** With `period`: periods each board is kept, the current one included. Default 2. */
  retain?: number;
  /**
   * Ranks of equal scores. `'shared'` (default, "1224" ranking): members
   * with equal scores get the same rank, the number of members with a
   * strictly better score (plus `rankBase`). `'ordinal'` ("1234"): every
   * member gets a distinct rank, its position in the listing. Either way,
   * listings order equal scores by member name (byte order, ascending).
   */
  ties?: TieRanking;
  /** The rank of the leader: 1 (default) or 0 (as Redis ZRANK counts). */
  rankBase?: 0 | 1;
  /**
   * What writes do when Redis fails: `'closed'` (default) rejects with the
   * coded error, so a score is never lost silently; `'open'` resolves null
   * and emits `store-error`.
   */
  failPolicy?: FailPolicy;
}

/** {@link LeaderboardOptions} after defaults. */
export interface ResolvedLeaderboardOptions {
  readonly name: string;
  readonly order: 'desc' | 'asc';
  readonly period: PeriodOption | null;
  readonly retain: number;
  readonly ttl: number;
  readonly ttlMode: TtlMode;
  readonly ties: TieRanking;
  readonly rankBase: 0 | 1;
  readonly failPolicy: FailPolicy;
  readonly timeout: number | undefined;
}

/** One line of a leaderboard listing. */
export interface LeaderboardEntry {
  member: string;
  score: number;
  /** Rank per the board's `ties` and `rankBase`. */
  rank: number;
}

/** Result of a score change. */
export interface ScoreUpdate {
  /** The member's score after the call. */
  score: number;
  /** Label of the period written; null when not time-boxed. */
  period: string | null;
}

/** Which board of a time-boxed leaderboard a read looks at. */
export interface PeriodReadOptions {
  /** 0 (default): the current period; 1: the one before ("yesterday's winners"); up to `retain - 1`. */
  ago?: number;
}

/** Options of a rank lookup. */
export interface RankOptions extends PeriodReadOptions {
  /** Overrides the board's `rankBase` for this call. */
  base?: 0 | 1;
  /** Overrides the board's `ties` for this call. */
  ties?: TieRanking;
}

/** Options of {@link Leaderboard.combined}. */
export interface CombinedOptions {
  /** Periods combined: the current one and the `periods - 1` before it. From 1 to `retain`. */
  periods: number;
  /** Weight of each period, the current one first (e.g. `[1, 0.5, 0.25]` to favour recent play). Default all 1. */
  weights?: number[];
  /** How the periods' scores of a member combine: `'sum'` (default), `'max'` or `'min'` (after weighting). */
  aggregate?: 'sum' | 'max' | 'min';
  /**
   * How long a computed combined board is reused, in ms (default 1000).
   * Reads within that time see the board as it was computed; 0 recomputes
   * on every read (ZUNIONSTORE is O(N) in the members of all periods).
   */
  reuse?: number;
}

/** The read operations every board view has. */
export interface LeaderboardReader {
  /** The member's score; null if it has none. */
  score(member: string | number, options?: PeriodReadOptions): Promise<number | null>;
  /** The member's rank (see `ties`, `rankBase`); null if it has no score. */
  rank(member: string | number, options?: RankOptions): Promise<number | null>;
  /** The first `n` entries. */
  top(n: number, options?: PeriodReadOptions): Promise<LeaderboardEntry[]>;
  /** `limit` entries from position `offset` (0 is the leader). */
  page(offset: number, limit: number, options?: PeriodReadOptions): Promise<LeaderboardEntry[]>;
  /** The member's entry with up to `n` entries before and after it; `[]` if it has no score. */
  around(member: string | number, n: number, options?: PeriodReadOptions): Promise<LeaderboardEntry[]>;
  /** Number of members with a score. */
  size(options?: PeriodReadOptions): Promise<number>;
}

const KNOWN = ['name', 'order', 'period', 'retain', 'ttl', 'ttlMode', 'ties', 'rankBase', 'failPolicy', 'timeout'] as const;
const MAX_ENTRIES = 10_000;

interface Source {
  back: number;
  extraKeys: string[];
  args: ScriptArg[];
  periods: number;
}

/**
 * A ranking in a Redis sorted set: set, increment or keep-best scores; rank
 * (ties shared or ordinal, 0- or 1-based), top, page, around, remove. With
 * `period`, each period (`'day'`, `'week'`, UTC by the Redis clock) has its
 * own board that expires after `retain` periods, and {@link combined} merges
 * several periods with weights (ZUNIONSTORE). All boards of one leaderboard
 * share a hash slot, so this works unchanged on Redis Cluster.
 *
 * Each call is one round trip (one script). A `'desc'` board stores negated
 * scores so that equal scores list by member name in both orders; results
 * always carry the real score.
 *
 * @example
 * const daily = createLeaderboard(kit, { name: 'arcade', period: 'day', retain: 7 });
 * await daily.increment('alice', 120);
 * await daily.top(10);                           // [{ member, score, rank }, ...]
 * await daily.rank('alice');                     // 1
 * const week = daily.combined({ periods: 7 });   // the sum over the last 7 days
 * await week.around('alice', 2);
 */
export class Leaderboard implements LeaderboardReader {
  readonly options: ResolvedLeaderboardOptions;
  private readonly runner: Runner;
  private readonly timebox: Timebox;
  private readonly board: EntityKeys;
  private readonly keyOf: (label: string | null) => string;

  constructor(
    private readonly kit: RedisKit,
    options: LeaderboardOptions,
  ) {
    const where = 'leaderboard';
    const { common, period, expiry } = resolveTimeboxed(where, options, KNOWN);
    const rankBase = options.rankBase === undefined ? 1 : options.rankBase;
    if (rankBase !== 0 && rankBase !== 1) invalidOption(where, 'rankBase', '0 or 1', options.rankBase);
    this.options = Object.freeze({
      name: common.name,
      order: optEnum(where, 'order', options.order, ['desc', 'asc'] as const, 'desc'),
      period: options.period ?? null,
      retain: expiry.retain,
      ttl: expiry.ttl,
      ttlMode: expiry.ttlMode,
      ties: optEnum<TieRanking>(where, 'ties', options.ties, ['shared', 'ordinal'], 'shared'),
      rankBase,
      failPolicy: resolveFailPolicy(where, options.failPolicy, 'closed'),
      timeout: common.timeout,
    });
    this.runner = new Runner(kit, 'leaderboard', common.name, this.options.failPolicy, common.timeout);
    this.timebox = new Timebox(kit, 'leaderboard', common.name, period, expiry.retain, expiry.ttl, expiry.ttlMode);
    this.board = kit.keys.entity('leaderboard', common.name);
    this.keyOf = periodKeyOf(this.board);
  }

  /** The Redis key (a sorted set) of the board for the period labelled `period`, or the only one. */
  key(period?: string): string {
    return this.keyOf(period ?? null);
  }

  /** Sets the member's score. */
  async add(member: string | number, score: number): Promise<ScoreUpdate | null> {
    return this.write('add', 'set', member, this.stored(argFinite('leaderboard.add', 'score', score)));
  }

  /** Adds `by` (may be negative) to the member's score (from 0 if it has none); resolves the new score. */
  async increment(member: string | number, by: number): Promise<ScoreUpdate | null> {
    return this.write('increment', 'incr', member, this.stored(argFinite('leaderboard.increment', 'by', by)));
  }

  /** Keeps the better of the member's score and `score` (higher for `'desc'`, lower for `'asc'`); resolves the kept score. */
  async submit(member: string | number, score: number): Promise<ScoreUpdate | null> {
    return this.write('submit', 'best', member, this.stored(argFinite('leaderboard.submit', 'score', score)));
  }

  /** Removes the member from every retained period's board; true if it was on any. Always fails closed. */
  async remove(member: string | number): Promise<boolean> {
    const m = argId('leaderboard.remove', 'member', member);
    const back = Math.max(0, this.options.retain - 1);
    const reply = await this.runner.strictWrite('remove', (redis) =>
      this.timebox.call(redis, writeScript, this.keyOf, back, [], ['remove', m, 0]),
    );
    return Number(reply.payload[0]) > 0;
  }

  /** Deletes every retained board. Always fails closed. */
  async clear(): Promise<void> {
    await this.runner.deleteAll('clear', '', this.timebox.allKeys(this.keyOf));
  }

  score(member: string | number, options: PeriodReadOptions = {}): Promise<number | null> {
    return this.reader.score(member, options);
  }

  rank(member: string | number, options: RankOptions = {}): Promise<number | null> {
    return this.reader.rank(member, options);
  }

  top(n: number, options: PeriodReadOptions = {}): Promise<LeaderboardEntry[]> {
    return this.reader.top(n, options);
  }

  page(offset: number, limit: number, options: PeriodReadOptions = {}): Promise<LeaderboardEntry[]> {
    return this.reader.page(offset, limit, options);
  }

  around(member: string | number, n: number, options: PeriodReadOptions = {}): Promise<LeaderboardEntry[]> {
    return this.reader.around(member, n, options);
  }

  size(options: PeriodReadOptions = {}): Promise<number> {
    return this.reader.size(options);
  }

  /**
   * A read-only view of several periods combined with weights, e.g. this
   * week as the sum of the last 7 daily boards. Computed in Redis by
   * ZUNIONSTORE into a key of the same hash slot, reused for `reuse` ms.
   *
   * @example
   * const recent = daily.combined({ periods: 3, weights: [1, 0.5, 0.25] });
   * await recent.top(10);
   */
  combined(options: CombinedOptions): LeaderboardReader {
    const where = 'leaderboard.combined';
    if (!this.timebox.period) invalidOption(where, 'periods', 'used only on a board with a period', options?.periods);
    assertKnownOptions(where, options, ['periods', 'weights', 'aggregate', 'reuse']);
    if (options.periods === undefined) invalidOption(where, 'periods', `an integer from 1 to retain (${this.options.retain})`, undefined);
    const periods = options.periods;
    if (!Number.isInteger(periods) || periods < 1 || periods > this.options.retain) {
      invalidOption(where, 'periods', `an integer from 1 to retain (${this.options.retain})`, periods);
    }
    const weights = options.weights ?? Array<number>(periods).fill(1);
    if (!Array.isArray(weights) || weights.length !== periods || !weights.every((w) => typeof w === 'number' && Number.isFinite(w))) {
      invalidOption(where, 'weights', `an array of ${periods} finite numbers (the current period's first)`, options.weights);
    }
    const aggregate = optEnum(where, 'aggregate', options.aggregate, ['sum', 'max', 'min'] as const, 'sum');
    const reuse = options.reuse === undefined ? 1000 : options.reuse;
    if (!Number.isInteger(reuse) || reuse < 0 || reuse > 86_400_000) invalidOption(where, 'reuse', 'an integer number of ms from 0 to 86400000', reuse);
    // Stored scores of a 'desc' board are negated: the best real maximum is the stored minimum.
    const stored = aggregate === 'sum' ? 'SUM' : (aggregate === 'max') === (this.options.order === 'asc') ? 'MAX' : 'MIN';
    const dest = this.board.key('combined', periods, weights.join('_'), aggregate);
    return new BoardReader(this, () => ({
      back: periods - 1,
      extraKeys: [dest],
      args: ['combined', stored, reuse, ...weights],
      periods,
    }));
  }

  private readonly reader: BoardReader = new BoardReader(this, (options) => {
    return { back: this.timebox.agoArg('leaderboard', options.ago), extraKeys: [], args: ['one', 'SUM', 0], periods: 1 };
  });

  private async write(op: string, scriptOp: string, member: string | number, value: number): Promise<ScoreUpdate | null> {
    const m = argId(`leaderboard.${op}`, 'member', member);
    const reply = await this.runner.write(op, (redis) =>
      this.timebox.call(redis, writeScript, this.keyOf, 0, [], [scriptOp, m, String(value)]),
    );
    if (reply === null) return null;
    return { score: this.real(reply.payload[0]), period: reply.label };
  }

  /** @internal Score as stored: negated for 'desc' boards. */
  stored(score: number): number {
    return this.options.order === 'desc' ? -score : score;
  }

  /** @internal Real score from a stored one. */
  real(stored: unknown): number {
    const n = Number(stored);
    return (this.options.order === 'desc' ? -n : n) + 0;
  }

  /** @internal Runs a read script; used by the board views. */
  async runRead(op: string, args: ScriptArg[], source: Source): Promise<{ size: number; result: unknown[] }> {
    const reply = await this.runner.read(op, (redis) =>
      this.timebox.call(redis, readScript, this.keyOf, source.back, source.extraKeys, [...args, ...source.args]),
    );
    const [built, size, ...result] = reply.payload;
    if (Number(built) === 1) {
      this.kit.events.emit('structures:combined-rebuilt', { name: this.options.name, periods: source.periods, members: Number(size) });
    }
    return { size: Number(size), result };
  }
}

/** The read operations over one source (a period's board or a combined board). */
class BoardReader implements LeaderboardReader {
  constructor(
    private readonly board: Leaderboard,
    private readonly source: (options: PeriodReadOptions) => Source,
  ) {}

  async score(member: string | number, options: PeriodReadOptions = {}): Promise<number | null> {
    const m = argId('leaderboard.score', 'member', member);
    const { result } = await this.board.runRead('score', ['score', m, 0, 0], this.source(options));
    return result[0] === null || result[0] === undefined ? null : this.board.real(result[0]);
  }

  async rank(member: string | number, options: RankOptions = {}): Promise<number | null> {
    const where = 'leaderboard.rank';
    const m = argId(where, 'member', member);
    const base = options.base === undefined ? this.board.options.rankBase : argInteger(where, 'base', options.base, 0, 1);
    const ties = options.ties === undefined ? this.board.options.ties : argEnum(where, 'ties', options.ties, ['shared', 'ordinal'] as const);
    const { result } = await this.board.runRead('rank', ['rank', m, 0, 0], this.source(options));
    if (result.length === 0) return null;
    return Number(ties === 'shared' ? result[1] : result[0]) + base;
  }

  async top(n: number, options: PeriodReadOptions = {}): Promise<LeaderboardEntry[]> {
    return this.page(0, argInteger('leaderboard.top', 'n', n, 1, MAX_ENTRIES), options);
  }

  async page(offset: number, limit: number, options: PeriodReadOptions = {}): Promise<LeaderboardEntry[]> {
    const start = argInteger('leaderboard.page', 'offset', offset, 0);
    const count = argInteger('leaderboard.page', 'limit', limit, 1, MAX_ENTRIES);
    const { result } = await this.board.runRead('page', ['range', '', start, count], this.source(options));
    return this.entries(result);
  }

  async around(member: string | number, n: number, options: PeriodReadOptions = {}): Promise<LeaderboardEntry[]> {
    const m = argId('leaderboard.around', 'member', member);
    const side = argInteger('leaderboard.around', 'n', n, 0, MAX_ENTRIES / 2);
    const { result } = await this.board.runRead('around', ['around', m, side, 0], this.source(options));
    return result.length === 0 ? [] : this.entries(result);
  }

  async size(options: PeriodReadOptions = {}): Promise<number> {
    return (await this.board.runRead('size', ['size', '', 0, 0], this.source(options))).size;
  }

  /** Turns `start, before, member, stored score, ...` into entries with ranks. */
  private entries(result: unknown[]): LeaderboardEntry[] {
    const start = Number(result[0]);
    const { ties, rankBase } = this.board.options;
    const out: LeaderboardEntry[] = [];
    let previousScore: unknown;
    let previousShared = Number(result[1]);
    for (let i = 2; i + 1 < result.length; i += 2) {
      const index = (i - 2) / 2;
      const stored = result[i + 1];
      // In a listing sorted by stored score, an entry whose score differs from
      // the one before has exactly `position` members strictly before it.
      const shared = index === 0 || stored === previousScore ? previousShared : start + index;
      previousShared = shared;
      previousScore = stored;
      out.push({
        member: String(result[i]),
        score: this.board.real(stored),
        rank: (ties === 'shared' ? shared : start + index) + rankBase,
      });
    }
    return out;
  }
}

/**
 * Creates a {@link Leaderboard}. Bad options throw a RedisKitError.
 *
 * @example
 * const fastest = createLeaderboard(kit, { name: 'level-3-times', order: 'asc' });
 * await fastest.submit('alice', 41.7); // keeps her best (lowest) time
 */
export function createLeaderboard(kit: RedisKit, options: LeaderboardOptions): Leaderboard {
  return new Leaderboard(kit, options);
}
