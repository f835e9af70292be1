import { createHash } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { RedisKitError } from '../errors';
import { hashTagOf } from '../keys';
import type { RedisClient } from './types';

/** A Lua script: from the generated module (`LUA.fixedWindow`) or written inline. */
export interface ScriptSource {
  readonly name: string;
  readonly lua: string;
  /** Fixed key count, checked on every call; null for a variable count. */
  readonly numberOfKeys: number | null;
  readonly readOnly?: boolean;
}

export type ScriptArg = string | number | Buffer;

interface ScriptRunner {
  exec<T>(operation: (redis: RedisClient) => Promise<T>, options?: { timeout?: number; operation?: string }): Promise<T>;
}

type WithCommand = Record<string, (...args: unknown[]) => Promise<unknown>>;

/**
 * One Lua script, registered on each client through ioredis `defineCommand`:
 * ioredis sends EVALSHA and falls back to EVAL only on NOSCRIPT (after a
 * restart, failover or `SCRIPT FLUSH`); any other error is returned as is,
 * never retried. The command name carries the script's SHA so two versions of
 * a script never shadow each other on a shared client.
 *
 * @example
 * const incrBy = defineScript<number>({ name: 'incrBy', numberOfKeys: 1,
 *   lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])" });
 * const n = await incrBy.run(kit, [kit.keys.key('hits')], [5]);
 */
export class RedisScript<TResult = unknown> {
  readonly name: string;
  readonly sha: string;
  readonly commandName: string;
  private readonly bufferCommandName: string;
  private readonly registered = new WeakSet<object>();
  // The exec options of a call without its own timeout, made once.
  private readonly execOptions: { operation: string; coalesce: true };

  constructor(readonly source: ScriptSource) {
    this.name = source.name;
    this.sha = createHash('sha1').update(source.lua).digest('hex');
    this.commandName = `rediskit_${source.name}_${this.sha.slice(0, 10)}`;
    this.bufferCommandName = `${this.commandName}Buffer`;
    this.execOptions = { operation: `script ${source.name}`, coalesce: true };
  }

  private optionsFor(options: { timeout?: number } | undefined): { timeout?: number; operation: string; coalesce: true } {
    return options?.timeout === undefined ? this.execOptions : { timeout: options.timeout, operation: this.execOptions.operation, coalesce: true };
  }

  /**
   * Runs under the context's operation timeout (or `options.timeout`), with
   * the context's fail-fast rules. Rejects with a coded RedisKitError.
   */
  run(kit: ScriptRunner, keys: readonly string[], args: readonly ScriptArg[] = [], options?: { timeout?: number }): Promise<TResult> {
    try {
      this.check(keys);
    } catch (error) {
      return Promise.reject(error);
    }
    return kit.exec((redis) => this.send(redis, keys, args), this.optionsFor(options));
  }

  /**
   * Like {@link run}, with bulk-string replies as Buffers, for scripts that
   * return binary values (a stored response body); `run` decodes them as UTF-8.
   */
  runBuffer<T = unknown>(
    kit: ScriptRunner,
    keys: readonly string[],
    args: readonly ScriptArg[] = [],
    options?: { timeout?: number },
  ): Promise<T> {
    try {
      this.check(keys);
    } catch (error) {
      return Promise.reject(error);
    }
    return kit.exec((redis) => this.send(redis, keys, args, true) as Promise<unknown> as Promise<T>, this.optionsFor(options));
  }

  /** Sends on a given client with no timeout; for background work on dedicated connections. */
  call(redis: RedisClient, keys: readonly string[], args: readonly ScriptArg[] = []): Promise<TResult> {
    try {
      this.check(keys);
      return this.send(redis, keys, args);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private send(redis: RedisClient, keys: readonly string[], args: readonly ScriptArg[], buffers = false): Promise<TResult> {
    if (!this.registered.has(redis)) {
      // numberOfKeys is passed per call so one registration serves any count.
      redis.defineCommand(this.commandName, { lua: this.source.lua, readOnly: this.source.readOnly === true });
      this.registered.add(redis);
    }
    // defineCommand adds `<name>Buffer` beside `<name>`: same script, replies as Buffers.
    const fn = (redis as unknown as WithCommand)[buffers ? this.bufferCommandName : this.commandName]!;
    return fn.call(redis, keys.length, ...keys, ...args) as Promise<TResult>;
  }

  private check(keys: readonly string[]): void {
    const expected = this.source.numberOfKeys;
    if (expected !== null && keys.length !== expected) {
      throw new RedisKitError(
        'ERR_REDISKIT_INVALID_OPTION',
        `script ${this.name} takes ${expected} keys; got ${keys.length}`,
      );
    }
    assertSameSlot(keys, `script ${this.name}`);
  }
}

/**
 * Throws ERR_REDISKIT_CROSS_SLOT unless every key hashes to one Cluster slot.
 * Checked on standalone Redis too, so a key layout that would fail on Cluster
 * fails in every test run.
 */
export function assertSameSlot(keys: readonly string[], operation: string): void {
  if (keys.length < 2) return;
  const first = keys[0]!;
  const tag = hashTagOf(first);
  let slot: number | undefined;
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    if (hashTagOf(key) === tag) continue;
    slot ??= calculateSlot(first);
    if (calculateSlot(key) !== slot) {
      throw new RedisKitError(
        'ERR_REDISKIT_CROSS_SLOT',
        `${operation}: keys ${JSON.stringify(first)} and ${JSON.stringify(key)} are in different hash slots`,
        { details: { operation } },
      );
    }
  }
}

/**
 * Declares a script once, at module level, and returns its typed wrapper.
 *
 * @example
 * import { LUA } from '../generated/lua';
 * const fixedWindow = defineScript<[number, number, number]>(LUA.fixedWindow);
 */
export function defineScript<TResult = unknown>(source: ScriptSource): RedisScript<TResult> {
  return new RedisScript<TResult>(source);
}
