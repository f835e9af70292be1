import { LUA } from '../generated/lua';
import type { EntityKeys } from '../keys';
import { optNumber } from '../options';
import type { FailPolicy } from '../redis/fail-policy';
import type { RedisKit } from '../redis/redis-kit';
import { defineScript } from '../redis/script';
import type { PeriodOption } from './periods';
import {
  argEnum,
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

const setScript = defineScript<unknown[]>(LUA.flagsSet);
const getScript = defineScript<unknown[]>(LUA.flagsGet);
const countScript = defineScript<unknown[]>(LUA.flagsCount);

/** Options of {@link createBitmapFlags}. */
export interface BitmapFlagsOptions extends CommonOptions, ExpiryOptions {
  /** Time-box the flags: one bitmap per period (UTC, Redis clock). Omitted: one bitmap per id. */
  period?: PeriodOption;
  /** With `period`: periods each bitmap is kept, the current one included. Default 2. */
  retain?: number;
  /**
   * Highest flag number accepted. A bitmap takes (highest flag set + 1) / 8
   * bytes, so this caps each bitmap's memory. Default 16_777_215 (2 MiB);
   * at most 4_294_967_295 (512 MiB, Redis's limit).
   */
  maxFlag?: number;
  /** What `setFlag` does when Redis fails: `'open'` (default) resolves null; `'closed'` rejects. */
  failPolicy?: FailPolicy;
}

/** {@link BitmapFlagsOptions} after defaults. */
export interface ResolvedBitmapFlagsOptions {
  readonly name: string;
  readonly period: PeriodOption | null;
  readonly retain: number;
  readonly ttl: number;
  readonly ttlMode: TtlMode;
  readonly maxFlag: number;
  readonly failPolicy: FailPolicy;
  readonly timeout: number | undefined;
}

/** Result of {@link BitmapFlags.setFlag}. */
export interface FlagSet {
  /** The flag's value before this call. */
  previous: boolean;
  /** Label of the period written; null when not time-boxed. */
  period: string | null;
}

/** Result of {@link BitmapFlags.readFlags}. */
export interface FlagsRead {
  /** Flags set (in any period for `'or'`, in every period for `'and'`). */
  count: number;
  /** Labels of the periods combined, newest first; `[]` when not time-boxed. */
  periods: string[];
  /** Redis time of the reading, in ms. */
  at: number;
}

const KNOWN = ['name', 'period', 'retain', 'ttl', 'ttlMode', 'maxFlag', 'failPolicy', 'timeout'] as const;

/**
 * Yes/no flags by dense numeric id in Redis bitmaps (SETBIT/GETBIT/BITCOUNT):
 * one bit per possible id, exact counts, e.g. daily active users by user
 * number. With `period`, each period has its own bitmap and counts can
 * combine several periods: users active on any of the last 7 days (`'or'`)
 * or on every one of them (`'and'`). All periods of one id share a hash slot.
 *
 * Use it for dense ids (auto-increment user numbers); for sparse or string
 * ids use a {@link UniqueCounter}, whose memory does not depend on id values.
 *
 * @example
 * const active = createBitmapFlags(kit, { name: 'active', period: 'day', retain: 7 });
 * await active.setFlag('app', user.number);
 * const dau = await active.countFlags('app');
 * const wau = await active.countFlags('app', { periods: 7 });
 */
export class BitmapFlags {
  readonly options: ResolvedBitmapFlagsOptions;
  private readonly runner: Runner;
  private readonly timebox: Timebox;

  constructor(
    private readonly kit: RedisKit,
    options: BitmapFlagsOptions,
  ) {
    const where = 'bitmapFlags';
    const { common, period, expiry } = resolveTimeboxed(where, options, KNOWN);
    this.options = Object.freeze({
      name: common.name,
      period: options.period ?? null,
      retain: expiry.retain,
      ttl: expiry.ttl,
      ttlMode: expiry.ttlMode,
      maxFlag: optNumber(where, 'maxFlag', options.maxFlag, 16_777_215, { integer: true, min: 0, max: 4_294_967_295 }),
      failPolicy: resolveFailPolicy(where, options.failPolicy, 'open'),
      timeout: common.timeout,
    });
    this.runner = new Runner(kit, 'flags', common.name, this.options.failPolicy, common.timeout);
    this.timebox = new Timebox(kit, 'flags', common.name, period, expiry.retain, expiry.ttl, expiry.ttlMode);
  }

  private entity(id: string | number, where: string): EntityKeys {
    return this.kit.keys.entity(`flags.${this.options.name}`, argId(where, 'id', id));
  }

  /** The Redis key of id's bitmap for the period labelled `period`, or the only one when not time-boxed. */
  key(id: string | number, period?: string): string {
    return this.entity(id, 'bitmapFlags.key').key(period ?? 'all');
  }

  /** Sets (or with `value: false` clears) flag `flag` now; resolves its previous value, or null when failing open. */
  async setFlag(id: string | number, flag: number, value = true): Promise<FlagSet | null> {
    const entity = this.entity(id, 'bitmapFlags.setFlag');
    const offset = argInteger('bitmapFlags.setFlag', 'flag', flag, 0, this.options.maxFlag);
    const reply = await this.runner.write('setFlag', (redis) =>
      this.timebox.call(redis, setScript, periodKeyOf(entity), 0, [], [offset, value ? 1 : 0]),
    );
    if (reply === null) return null;
    return { previous: Number(reply.payload[0]) === 1, period: reply.label };
  }

  /** Whether flag `flag` is set in the current period (or `ago` periods before it). */
  async getFlag(id: string | number, flag: number, options: { ago?: number } = {}): Promise<boolean> {
    const entity = this.entity(id, 'bitmapFlags.getFlag');
    const offset = argInteger('bitmapFlags.getFlag', 'flag', flag, 0, this.options.maxFlag);
    const ago = this.timebox.agoArg('bitmapFlags.getFlag', options.ago);
    const reply = await this.runner.read('getFlag', (redis) =>
      this.timebox.call(redis, getScript, periodKeyOf(entity), ago, [], [offset]),
    );
    return Number(reply.payload[0]) === 1;
  }

  /**
   * Flags set in the current period, or over the last `periods` periods:
   * set in any of them (`op: 'or'`, default) or in all of them (`'and'`).
   */
  async countFlags(id: string | number, options: { periods?: number; op?: 'or' | 'and' } = {}): Promise<number> {
    return (await this.readFlags(id, options)).count;
  }

  /** Like {@link countFlags}, with the labels of the periods combined and the Redis time. */
  async readFlags(id: string | number, options: { periods?: number; op?: 'or' | 'and' } = {}): Promise<FlagsRead> {
    const where = 'bitmapFlags.countFlags';
    const entity = this.entity(id, where);
    const periods = this.timebox.periodsArg(where, options.periods);
    const op = argEnum(where, 'op', options.op ?? 'or', ['or', 'and'] as const);
    const reply = await this.runner.read('countFlags', (redis) =>
      this.timebox.call(redis, countScript, periodKeyOf(entity), periods - 1, [entity.key('scratch')], [op]),
    );
    return {
      count: Number(reply.payload[0]),
      periods: this.timebox.labelsBack(reply.cur, periods),
      at: reply.now,
    };
  }

  /** Deletes every period of `id`. Always fails closed. */
  async reset(id: string | number): Promise<void> {
    const entity = this.entity(id, 'bitmapFlags.reset');
    await this.runner.deleteAll('reset', String(id), this.timebox.allKeys(periodKeyOf(entity)));
  }
}

/**
 * Creates a {@link BitmapFlags}. Bad options throw a RedisKitError.
 *
 * @example
 * const seenTour = createBitmapFlags(kit, { name: 'seen-tour' });
 * if (!(await seenTour.getFlag('v2', user.number))) showTour();
 */
export function createBitmapFlags(kit: RedisKit, options: BitmapFlagsOptions): BitmapFlags {
  return new BitmapFlags(kit, options);
}
