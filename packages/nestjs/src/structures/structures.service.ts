import { Injectable } from '@nestjs/common';
import {
  structures,
  type BitmapFlags,
  type BitmapFlagsOptions,
  type Counter,
  type CounterOptions,
  type Leaderboard,
  type LeaderboardOptions,
  type RedisKit,
  type Structures,
  type UniqueCounter,
  type UniqueCounterOptions,
  type WindowedCounter,
  type WindowedCounterOptions,
} from '@rediskit/core';
import { InjectRedisKit } from '../inject-rediskit.decorator';

/**
 * Counters, windowed counters, unique counters, bitmap flags and
 * leaderboards of the module's context, by injection. Each method returns
 * the structure of that name, created on first use and shared with
 * `structures(kit)` elsewhere in the app (asking again with other options
 * throws ERR_REDISKIT_INVALID_OPTION).
 *
 * @example
 * @Injectable()
 * export class ScoresService {
 *   private readonly board = this.structures.leaderboard({ name: 'arcade', period: 'day', retain: 7 });
 *   constructor(private readonly structures: StructuresService) {}
 *   play(user: string, points: number) { return this.board.increment(user, points); }
 * }
 */
@Injectable()
export class StructuresService {
  /** The context's registry, as `structures(kit)` returns it. */
  readonly registry: Structures;

  constructor(@InjectRedisKit() kit: RedisKit) {
    this.registry = structures(kit);
  }

  counter(options: CounterOptions): Counter {
    return this.registry.counter(options);
  }

  windowedCounter(options: WindowedCounterOptions): WindowedCounter {
    return this.registry.windowedCounter(options);
  }

  uniqueCounter(options: UniqueCounterOptions): UniqueCounter {
    return this.registry.uniqueCounter(options);
  }

  flags(options: BitmapFlagsOptions): BitmapFlags {
    return this.registry.flags(options);
  }

  leaderboard(options: LeaderboardOptions): Leaderboard {
    return this.registry.leaderboard(options);
  }
}
