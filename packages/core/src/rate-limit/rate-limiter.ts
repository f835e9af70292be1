import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { RedisKitError } from '../errors';
import { LUA } from '../generated/lua';
import { assertKnownOptions, invalidOption, optBoolean, optEnum, optNumber, optString } from '../options';
import type { RedisKit } from '../redis/redis-kit';
import { defineScript, type ScriptArg } from '../redis/script';
import { BlockCache } from './block-cache';
import type { DecisionSource, RateLimitFailPolicy } from './events';
import { MemoryRateStore } from './memory-store';
import {
  ALGORITHM_KEY,
  BLOCK_KEY,
  POLICY_OPTIONS,
  resolvePolicies,
  resolvePolicy,
  type RateLimitAlgorithm,
  type RateLimitPolicyOptions,
  type ResolvedPolicy,
} from './policy';

const consumeScript = defineScript<number[]>(LUA.rateLimitConsume);
const settleScript = defineScript<number>(LUA.rateLimitSettle);

const FEATURE = 'ratelimit';
/** Reply values per policy of a rejected decision (and of every in-memory one). */
const PER_POLICY = 6;
/** Reply values per policy of an admitted decision from the script. */
const SHORT_PER_POLICY = 3;

/**
 * Options of {@link RateLimiter}. Give `policies`, or one policy's fields
 * (`algorithm`, `limit`, `window`, ...) at the top level.
 */
export interface RateLimiterOptions extends Partial<RateLimitPolicyOptions> {
  /** Names the limiter in keys and events; limiters with the same name and policies share counters. */
  name: string;
  policies?: RateLimitPolicyOptions[];
  /**
   * When Redis cannot decide (down, slow, flushed mid-request): `open` admits,
   * `closed` rejects (consume() throws the coded error; HTTP answers 503),
   * `local` decides in process memory with `localShare` of each limit.
   * Default `'open'`.
   */
  failPolicy?: RateLimitFailPolicy;
  /** Share of each limit a process enforces under `local` (0 < share <= 1), e.g. 1/4 for four processes. Default 1. */
  localShare?: number;
  /** Dry run: nothing is rejected; would-be rejections are counted and reported (`limited` with `shadow: true`). Default false. */
  shadow?: boolean;
  /** Charge rejected requests too (penalty mode: a client that keeps trying stays limited). Default false. */
  countRejected?: boolean;
  /** Remember blocked keys in process so a blocked client costs no Redis call. Default true (at most 10000 keys). */
  blockCache?: boolean | { maxKeys?: number };
  /** Concurrency leases expire after this many ms unless renewed (a process that dies frees its slots). Default 60000. */
  leaseTtl?: number;
  /** `near-limit` fires when remaining falls to this share of capacity or below; 0 turns it off. Default 0.1. */
  nearLimitRatio?: number;
  /**
   * `key` (default): every key of one decision sits under the client's hash
   * tag, so clients spread over a Cluster. `limiter`: all keys of the limiter
   * share one tag, which lets policies count different identities (per IP and
   * per user) in one atomic decision, at the cost of one Cluster slot per limiter.
   */
  hashTag?: 'key' | 'limiter';
  /** Timeout of one decision in ms. Default the context's `operationTimeout`. */
  timeout?: number;
}

/** One policy's part of a decision. */
export interface PolicyResult {
  readonly name: string;
  readonly algorithm: RateLimitAlgorithm;
  /** The quota: units per window (token bucket, GCRA: the sustained rate), or in-flight requests. */
  readonly limit: number;
  /** Window in ms (0 for concurrency). */
  readonly window: number;
  /** Most units available at once (burst for token bucket and GCRA, else the limit). */
  readonly capacity: number;
  /** True when this policy admits the request. */
  readonly ok: boolean;
  /** Units left after this request (before it, when the request was rejected). */
  readonly remaining: number;
  /** Ms until at least one more unit is available (0 when full); on a violation, ms until the request fits. */
  readonly resetMs: number;
  /** Ms until the request would fit this policy; 0 when it does. */
  readonly retryAfterMs: number;
}

/** The answer to one request. */
export interface RateLimitDecision {
  /** False only when the request must be rejected (never in shadow mode). */
  readonly allowed: boolean;
  /** True when a policy rejected the request, also in shadow mode. */
  readonly limited: boolean;
  readonly shadow: boolean;
  /** `redis`, `local` (fail policy local), `block-cache`, `fail-open` or `cost` (the cost exceeds a policy's capacity). */
  readonly source: DecisionSource;
  readonly key: string;
  readonly cost: number;
  /** Every policy checked; after a block-cache hit or a cost rejection, only the violated ones. Empty after fail-open. */
  readonly policies: readonly PolicyResult[];
  /** Names of the policies that rejected. */
  readonly violated: readonly string[];
  /** Ms until the request would be admitted (the largest over violated policies); 0 when admitted. */
  readonly retryAfterMs: number;
  /** Redis server time of the decision, in microseconds (Redis and local decisions only). */
  readonly timeUs?: number;
  /** The error behind a fail-open or local decision. */
  readonly error?: RedisKitError;
}

/** Counters of one limiter since it was created. */
export interface RateLimiterStats {
  allowed: number;
  limited: number;
  shadowLimited: number;
  failOpen: number;
  local: number;
  storeErrors: number;
  blockCacheHits: number;
}

export type RateLimitKey = string | Readonly<Record<string, string>>;

export interface ConsumeOptions {
  /** Units this request costs; 0 is a peek. Default 1. */
  cost?: number;
  /** Check only these policies (by name). Default all. */
  policies?: readonly string[];
}

interface Receipt {
  source: 'redis' | 'local';
  policies: readonly ResolvedPolicy[];
  stateKeys: string[];
  receipts: number[];
  leaseId: string;
  charged: boolean;
  cost: number;
  refunded: boolean;
  released: boolean;
  renewTimer?: NodeJS.Timeout;
}

const RECEIPT = Symbol('rediskit.ratelimit.receipt');

// A lease is renewed while its decision is alive; a decision dropped without
// release() stops renewing once collected, and its lease then expires.
const renewals = new FinalizationRegistry<NodeJS.Timeout>((timer) => clearInterval(timer));

/** Option names {@link resolveLimiterSettings} reads; every limiter (and the HTTP layer) accepts them. */
export const LIMITER_SETTING_OPTIONS = [
  'failPolicy',
  'localShare',
  'shadow',
  'countRejected',
  'blockCache',
  'leaseTtl',
  'nearLimitRatio',
  'timeout',
] as const;

const OPTIONS = ['name', 'policies', ...LIMITER_SETTING_OPTIONS, 'hashTag', ...POLICY_OPTIONS.filter((o) => o !== 'name')] as const;

/** Resolved options shared by {@link RateLimiter} and the HTTP layer. */
export interface ResolvedLimiterSettings {
  readonly failPolicy: RateLimitFailPolicy;
  readonly localShare: number;
  readonly shadow: boolean;
  readonly countRejected: boolean;
  readonly blockCacheKeys: number;
  readonly leaseTtl: number;
  readonly nearLimitRatio: number;
  readonly timeout: number | undefined;
}

/** Validates the settings every limiter takes. */
export function resolveLimiterSettings(where: string, o: Record<string, unknown>): ResolvedLimiterSettings {
  let blockCacheKeys = 10_000;
  if (o.blockCache === false) blockCacheKeys = 0;
  else if (o.blockCache !== undefined && o.blockCache !== true) {
    if (typeof o.blockCache !== 'object' || o.blockCache === null) invalidOption(where, 'blockCache', 'a boolean or { maxKeys }', o.blockCache);
    assertKnownOptions(`${where}.blockCache`, o.blockCache, ['maxKeys']);
    blockCacheKeys = optNumber(`${where}.blockCache`, 'maxKeys', (o.blockCache as { maxKeys?: unknown }).maxKeys, 10_000, {
      integer: true,
      min: 1,
    });
  }
  return Object.freeze({
    failPolicy: optEnum(where, 'failPolicy', o.failPolicy, ['open', 'closed', 'local'] as const, 'open'),
    localShare: optNumber(where, 'localShare', o.localShare, 1, { min: 0, exclusiveMin: true, max: 1 }),
    shadow: optBoolean(where, 'shadow', o.shadow, false),
    countRejected: optBoolean(where, 'countRejected', o.countRejected, false),
    blockCacheKeys,
    leaseTtl: optNumber(where, 'leaseTtl', o.leaseTtl, 60_000, { integer: true, min: 100, max: 86_400_000 }),
    nearLimitRatio: optNumber(where, 'nearLimitRatio', o.nearLimitRatio, 0.1, { min: 0, max: 1 }),
    timeout: optNumber(where, 'timeout', o.timeout, undefined, { min: 1, max: 60_000 }),
  });
}

/** `policies`, or the one policy given at the top level of `o`. */
export function policiesFrom(where: string, o: Record<string, unknown>, extraKnown: readonly string[] = []): ResolvedPolicy[] {
  const topLevel = POLICY_OPTIONS.filter((k) => k !== 'name' && o[k] !== undefined);
  if (o.policies !== undefined) {
    if (topLevel.length > 0) {
      throw new RedisKitError(
        'ERR_REDISKIT_INVALID_OPTION',
        `${where}: give either policies or one policy's fields (${topLevel.join(', ')}), not both`,
        { details: { option: `${where}.${topLevel[0]}` } },
      );
    }
    return resolvePolicies(`${where}.policies`, o.policies, extraKnown);
  }
  if (topLevel.length === 0) {
    throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${where}: give policies, or limit and window for one policy`, {
      details: { option: `${where}.limit` },
    });
  }
  const single: Record<string, unknown> = {};
  for (const k of topLevel) single[k] = o[k];
  return [resolvePolicy(where, single, true)];
}

/** Escapes `%` and `|` so two strings joined by `|` never read as another pair. */
function joinable(text: string): string {
  if (text.indexOf('%') === -1 && text.indexOf('|') === -1) return text;
  return text.replace(/%/g, '%25').replace(/\|/g, '%7C');
}

function leaseId(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * Rate limits anything keyed by a string: HTTP routes (through the
 * adapters), jobs, websocket messages, queue consumers. Each decision is one
 * Lua script and one Redis round trip, however many policies it checks,
 * and either charges every policy or none.
 *
 * @example
 * const limiter = new RateLimiter(kit, {
 *   name: 'emails',
 *   policies: [
 *     { name: 'burst', algorithm: 'gcra', limit: 5, window: 1000 },
 *     { name: 'daily', algorithm: 'fixed-window', limit: 500, window: 86_400_000 },
 *   ],
 * });
 * const d = await limiter.consume(`user:${userId}`);
 * if (!d.allowed) throw new Error(`try again in ${d.retryAfterMs} ms`);
 */
export class RateLimiter {
  readonly name: string;
  readonly policies: readonly ResolvedPolicy[];
  readonly settings: ResolvedLimiterSettings;
  readonly hashTag: 'key' | 'limiter';
  private readonly blocks: BlockCache | undefined;
  private readonly memory: MemoryRateStore;
  // Precomputed once, used by every decision (see docs/rate-limit.md, Performance).
  private readonly hasLease: boolean;
  /** Smallest capacity of a rate policy: a cost above it needs a closer look. */
  private readonly minCapacity: number;
  /** Script arguments of the usual decision: all policies, cost 1, no lease. */
  private readonly consumeArgs: readonly ScriptArg[];
  /** Per policy (in `policies` order): its five script arguments, and its key suffixes after the hash tag. */
  private readonly policyArgs: readonly ScriptArg[][];
  private readonly stateSuffix: readonly string[];
  private readonly blockSuffix: readonly string[];
  /** `<prefix>:{rl:` and the escaped limiter name, the start of every key. */
  private readonly keyHead: string;
  private readonly escapedName: string;
  private readonly attemptOptions: { timeout?: number };
  private readonly counters: RateLimiterStats = {
    allowed: 0,
    limited: 0,
    shadowLimited: 0,
    failOpen: 0,
    local: 0,
    storeErrors: 0,
    blockCacheHits: 0,
  };

  constructor(
    readonly kit: RedisKit,
    options: RateLimiterOptions,
  ) {
    const where = 'rateLimiter';
    assertKnownOptions(where, options, OPTIONS);
    const o = options as unknown as Record<string, unknown>;
    this.name = optString(where, 'name', options.name, undefined, { describe: 'a non-empty string' })!;
    if (this.name === undefined) invalidOption(where, 'name', 'a non-empty string', options.name);
    this.policies = Object.freeze(policiesFrom(where, o));
    this.settings = resolveLimiterSettings(where, o);
    this.hashTag = optEnum(where, 'hashTag', options.hashTag, ['key', 'limiter'] as const, 'key');
    this.blocks = this.settings.blockCacheKeys > 0 && this.policies.some((p) => p.blockDuration > 0) ? new BlockCache(this.settings.blockCacheKeys) : undefined;
    this.memory = new MemoryRateStore();
    this.hasLease = this.policies.some((p) => p.algorithm === 'concurrency');
    this.minCapacity = Math.min(...this.policies.map((p) => (p.algorithm === 'concurrency' ? Infinity : p.capacity)));
    this.policyArgs = this.policies.map((p) => policyArgs(p, p.blockDuration));
    this.consumeArgs = Object.freeze(['consume', '1', this.settings.countRejected ? '1' : '0', '', String(this.settings.leaseTtl), ...this.policyArgs.flat()]);
    const ks = kit.keys;
    const sep = ks.separator;
    // A policy named 'default' (the name of a limiter's only policy) is left
    // out of its keys; any other name follows the letter. Escaped names are
    // never empty and never contain the separator, so keys stay distinct.
    const named = (p: ResolvedPolicy) => (p.name === 'default' ? '' : `${sep}${ks.part(p.name)}`);
    this.stateSuffix = this.policies.map((p) => `}${ALGORITHM_KEY[p.algorithm]}${named(p)}`);
    this.blockSuffix = this.policies.map((p) => `}${BLOCK_KEY}${named(p)}`);
    this.keyHead = `${ks.prefix}${sep}{${ks.part('rl')}${sep}`;
    this.escapedName = joinable(this.name);
    this.attemptOptions = this.settings.timeout !== undefined ? { timeout: this.settings.timeout } : {};
  }

  /** Counters since creation: allowed, limited, shadow-limited, fail-open, local decisions, store errors, block-cache hits. */
  stats(): RateLimiterStats {
    return { ...this.counters };
  }

  private select(names: readonly string[] | undefined): readonly ResolvedPolicy[] {
    if (!names) return this.policies;
    const chosen = this.policies.filter((p) => names.includes(p.name));
    for (const n of names) {
      if (!this.policies.some((p) => p.name === n)) {
        throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `rate limiter "${this.name}" has no policy named "${n}"`, {
          details: { option: 'policies' },
        });
      }
    }
    return chosen;
  }

  private identityOf(key: RateLimitKey, policy: ResolvedPolicy): string {
    if (typeof key === 'string') return key;
    const id = key[policy.name];
    if (typeof id !== 'string') {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `rate limiter "${this.name}": no key for policy "${policy.name}"`);
    }
    return id;
  }

  private describeKey(key: RateLimitKey): string {
    return typeof key === 'string' ? key : [...new Set(Object.values(key))].join(' ');
  }

  /** The Redis keys of `key` under each policy: state keys, then block keys. Same hash tag for all. */
  keysFor(key: RateLimitKey, policies: readonly ResolvedPolicy[] = this.policies): { state: string[]; block: string[] } {
    const all = this.decisionKeys(key, policies);
    const state: string[] = [];
    const block: string[] = [];
    for (let i = 0; i < all.length; i += 2) {
      state.push(all[i]!);
      block.push(all[i + 1]!);
    }
    return { state, block };
  }

  /**
   * The script's KEYS: each policy's state key, then its block key.
   * `<prefix>:{rl:<limiter>|<client>}<letter>[:<policy>]` with hashTag 'key',
   * `<prefix>:{rl:<limiter>}<letter>[:<policy>]:<identity>` with 'limiter'.
   */
  private decisionKeys(key: RateLimitKey, policies: readonly ResolvedPolicy[]): string[] {
    const ks = this.kit.keys;
    const all: string[] = [];
    if (this.hashTag === 'key') {
      if (typeof key !== 'string') {
        throw new RedisKitError(
          'ERR_REDISKIT_INVALID_OPTION',
          `rate limiter "${this.name}": per-policy keys need hashTag: 'limiter' (keys of one decision must share a hash slot)`,
        );
      }
      // One tag per limiter and client: clients spread over the Cluster's slots.
      const tagged = this.keyHead + ks.part(`${this.escapedName}|${joinable(key)}`);
      for (const p of policies) {
        const i = this.indexOf(p);
        all.push(tagged + this.stateSuffix[i]!, tagged + this.blockSuffix[i]!);
      }
    } else {
      const tagged = this.keyHead + ks.part(this.name);
      const sep = ks.separator;
      for (const p of policies) {
        const i = this.indexOf(p);
        const id = `${sep}${ks.part(this.identityOf(key, p))}`;
        all.push(tagged + this.stateSuffix[i]! + id, tagged + this.blockSuffix[i]! + id);
      }
    }
    return all;
  }

  private indexOf(p: ResolvedPolicy): number {
    const i = this.policies.indexOf(p);
    if (i < 0) throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `rate limiter "${this.name}" has no policy named "${p.name}"`);
    return i;
  }

  private args(mode: string, cost: number, policies: readonly ResolvedPolicy[], lease: string, share = 1): ScriptArg[] {
    const args: ScriptArg[] = [mode, cost, this.settings.countRejected ? '1' : '0', lease, this.settings.leaseTtl];
    for (const p of policies) {
      if (share >= 1) args.push(...this.policyArgs[this.indexOf(p)]!);
      else args.push(...scaledArgs(p, share, p.blockDuration));
    }
    return args;
  }

  private settleArgs(quota: 'refund' | 'reward' | 'none', amount: number, lease: 'release' | 'renew' | 'none', id: string, policies: readonly ResolvedPolicy[], receipts: readonly number[], share = 1): ScriptArg[] {
    const args: ScriptArg[] = [quota, amount, lease, id, this.settings.leaseTtl];
    policies.forEach((p, i) => args.push(...scaledArgs(p, share, receipts[i] ?? 0)));
    return args;
  }

  private checkCost(cost: unknown): number {
    if (typeof cost !== 'number' || !Number.isInteger(cost) || cost < 0 || cost > 1_000_000_000) {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `rate limiter "${this.name}": cost must be an integer >= 0; got ${String(cost)}`, {
        details: { option: 'cost' },
      });
    }
    return cost;
  }

  /**
   * Decides one request for `key` and charges `cost` (default 1) to every
   * policy, or to none when one rejects. Never waits longer than the timeout;
   * when Redis fails, applies the fail policy (`closed` rejects the promise
   * with the coded error).
   */
  async consume(key: RateLimitKey, options: ConsumeOptions = {}): Promise<RateLimitDecision> {
    const cost = options.cost === undefined ? 1 : this.checkCost(options.cost);
    const policies = this.select(options.policies);
    const label = typeof key === 'string' ? key : this.describeKey(key);
    if (policies.length === 0) return this.finish(this.admitAll(label, cost, 'redis'), cost);

    // A cost above a policy's capacity can never fit: no Redis call.
    if (cost > this.minCapacity) {
      const tooBig = policies.filter((p) => p.algorithm !== 'concurrency' && cost > p.capacity);
      if (tooBig.length > 0) {
        const results = tooBig.map((p) => this.violation(p, p.window, p.capacity));
        return this.finish(this.rejection(label, cost, 'cost', results), cost);
      }
    }

    const keys = this.decisionKeys(key, policies);
    if (this.blocks) {
      let cached: PolicyResult[] | undefined;
      for (let i = 0; i < policies.length; i++) {
        const p = policies[i]!;
        const left = p.blockDuration > 0 ? this.blocks.remaining(keys[2 * i + 1]!) : 0;
        if (left > 0) (cached ??= []).push(this.violation(p, left, 0));
      }
      if (cached) {
        this.counters.blockCacheHits++;
        return this.finish(this.rejection(label, cost, 'block-cache', cached), cost);
      }
    }

    // Only concurrency policies hold a lease; the random id costs a crypto call per decision otherwise.
    const lease = (policies === this.policies ? this.hasLease : policies.some((p) => p.algorithm === 'concurrency')) ? leaseId() : '';
    const args = cost === 1 && policies === this.policies && lease === '' ? this.consumeArgs : this.args('consume', cost, policies, lease);
    const sentAt = this.blocks ? performance.now() : 0;
    const failPolicy = this.settings.failPolicy;
    const attempt = await this.kit.attempt(
      FEATURE,
      'consume',
      failPolicy === 'closed' ? 'closed' : 'open',
      (redis) => consumeScript.call(redis, keys, args),
      this.attemptOptions,
    );
    if (attempt.ok) {
      const reply = attempt.value;
      const d = this.fromReply(label, cost, policies, keys, reply, lease, 'redis');
      // Only a rejection can carry a block (in the long form of the reply).
      if (this.blocks && d.limited) {
        for (let i = 0; i < policies.length; i++) {
          const blockedMs = Number(reply[2 + i * PER_POLICY + 5]);
          if (policies[i]!.blockDuration > 0 && blockedMs > 0) this.blocks.add(keys[2 * i + 1]!, blockedMs, sentAt);
        }
      }
      return this.finish(d, cost);
    }

    this.counters.storeErrors++;
    const error = attempt.error;
    this.kit.events.emit('ratelimit:store-error', {
      limiter: this.name,
      operation: 'consume',
      policies: policies.map((p) => p.name),
      failPolicy,
      error,
    });
    if (failPolicy === 'closed') throw error;
    if (failPolicy === 'open') {
      this.counters.failOpen++;
      this.kit.events.emit('ratelimit:fail-open', { limiter: this.name, key: label, policies: policies.map((p) => p.name) });
      return this.finish({ ...this.admitAll(label, cost, 'fail-open'), error }, cost);
    }
    this.counters.local++;
    const reply = this.memory.consume(keys, this.args('consume', cost, policies, lease, this.settings.localShare), nowUs());
    return this.finish(this.fromReply(label, cost, policies, keys, reply, lease, 'local', error), cost);
  }

  /** Reads `key`'s state without changing anything: would a request costing `cost` (default 1) pass? */
  async get(key: RateLimitKey, options: ConsumeOptions = {}): Promise<RateLimitDecision> {
    const cost = this.checkCost(options.cost ?? 1);
    const policies = this.select(options.policies);
    const keys = this.decisionKeys(key, policies);
    const reply = await this.kit.exec((redis) => consumeScript.call(redis, keys, this.args('peek', cost, policies, '')), {
      operation: `${FEATURE} get`,
      ...this.attemptOptions,
    });
    return this.fromReply(this.describeKey(key), cost, policies, keys, reply, '', 'redis');
  }

  /** Charges `amount` units to `key` on every (rate) policy without deciding anything: a penalty. */
  async penalty(key: RateLimitKey, amount: number, options: Omit<ConsumeOptions, 'cost'> = {}): Promise<RateLimitDecision> {
    const cost = this.checkCost(amount);
    const policies = this.select(options.policies);
    const keys = this.decisionKeys(key, policies);
    const reply = await this.kit.exec((redis) => consumeScript.call(redis, keys, this.args('penalty', cost, policies, '')), {
      operation: `${FEATURE} penalty`,
    });
    return this.fromReply(this.describeKey(key), cost, policies, keys, reply, '', 'redis');
  }

  /** Gives `amount` units back to `key` in the current window; never above capacity. */
  async reward(key: RateLimitKey, amount: number, options: Omit<ConsumeOptions, 'cost'> = {}): Promise<void> {
    const n = this.checkCost(amount);
    const policies = this.select(options.policies).filter((p) => p.algorithm !== 'concurrency');
    if (n === 0 || policies.length === 0) return;
    const keys = this.keysFor(key, policies);
    await this.kit.exec((redis) => settleScript.call(redis, keys.state, this.settleArgs('reward', n, 'none', '', policies, [])), {
      operation: `${FEATURE} reward`,
    });
  }

  /** Forgets `key` on every policy (counters, blocks, leases), in Redis and in this process's block cache. */
  async reset(key: RateLimitKey): Promise<void> {
    const keys = this.keysFor(key);
    for (const k of keys.block) this.blocks?.delete(k);
    this.memory.delete([...keys.state, ...keys.block]);
    await this.kit.exec((redis) => redis.del(...keys.state, ...keys.block), { operation: `${FEATURE} reset` });
  }

  /**
   * Undoes the charge of an admitted decision (`amount` defaults to its
   * cost), once, and only within the window it was charged in: a refund
   * after the window ended changes nothing. Never below zero. Resolves to
   * true when something was given back.
   */
  async refund(decision: RateLimitDecision, amount?: number): Promise<boolean> {
    return this.settle(decision, { refund: true, release: false, amount });
  }

  /** Ends the concurrency lease of an admitted decision (once). */
  async release(decision: RateLimitDecision): Promise<boolean> {
    return this.settle(decision, { refund: false, release: true });
  }

  /**
   * Refund and/or lease release in one round trip; each happens at most
   * once per decision. Never throws: a failure is reported as a store error.
   */
  async settle(decision: RateLimitDecision, what: { refund: boolean; release: boolean; amount?: number }): Promise<boolean> {
    const r = (decision as unknown as Record<symbol, Receipt | undefined>)[RECEIPT];
    if (!r || !r.charged) return false;
    const doRefund = what.refund && !r.refunded && r.cost > 0;
    const hasLease = r.policies.some((p) => p.algorithm === 'concurrency');
    const doRelease = what.release && !r.released && hasLease;
    if (!doRefund && !doRelease) return false;
    if (doRefund) r.refunded = true;
    if (doRelease) {
      r.released = true;
      if (r.renewTimer) clearInterval(r.renewTimer);
    }
    const amount = doRefund ? Math.min(r.cost, this.checkCost(what.amount ?? r.cost)) : 0;
    const args = this.settleArgs(doRefund ? 'refund' : 'none', amount, doRelease ? 'release' : 'none', r.leaseId, r.policies, r.receipts, r.source === 'local' ? this.settings.localShare : 1);
    if (r.source === 'local') return this.memory.settle(r.stateKeys, args, nowUs()) > 0;
    const attempt = await this.kit.attempt(FEATURE, 'settle', 'open', (redis) => settleScript.call(redis, r.stateKeys, args));
    if (!attempt.ok) {
      this.counters.storeErrors++;
      this.kit.events.emit('ratelimit:store-error', {
        limiter: this.name,
        operation: 'settle',
        policies: r.policies.map((p) => p.name),
        failPolicy: this.settings.failPolicy,
        error: attempt.error,
      });
      return false;
    }
    return attempt.value > 0;
  }

  private admitAll(key: string, cost: number, source: DecisionSource): RateLimitDecision {
    return { allowed: true, limited: false, shadow: this.settings.shadow, source, key, cost, policies: [], violated: [], retryAfterMs: 0 };
  }

  private violation(p: ResolvedPolicy, retryAfterMs: number, remaining: number): PolicyResult {
    return {
      name: p.name,
      algorithm: p.algorithm,
      limit: p.limit,
      window: p.window,
      capacity: p.capacity,
      ok: false,
      remaining,
      resetMs: retryAfterMs,
      retryAfterMs,
    };
  }

  private rejection(key: string, cost: number, source: DecisionSource, results: PolicyResult[]): RateLimitDecision {
    const shadow = this.settings.shadow;
    return {
      allowed: shadow,
      limited: true,
      shadow,
      source,
      key,
      cost,
      policies: results,
      violated: results.map((p) => p.name),
      retryAfterMs: Math.max(...results.map((p) => p.retryAfterMs)),
    };
  }

  private fromReply(
    key: string,
    cost: number,
    policies: readonly ResolvedPolicy[],
    keys: readonly string[],
    reply: readonly (number | string)[],
    lease: string,
    source: 'redis' | 'local',
    error?: RedisKitError,
  ): RateLimitDecision {
    const admitted = Number(reply[1]) === 1;
    // An admitted decision from the script holds three values per policy
    // (remaining, reset, receipt); otherwise, and from the in-memory twin, six.
    const short = policies.length > 0 && reply.length === 2 + SHORT_PER_POLICY * policies.length;
    const results: PolicyResult[] = [];
    const violated: string[] = [];
    const receipts: number[] = [];
    let retryAfterMs = 0;
    for (let i = 0; i < policies.length; i++) {
      const p = policies[i]!;
      let ok = true;
      let remaining: number;
      let resetMs: number;
      let retry = 0;
      if (short) {
        const b = 2 + i * SHORT_PER_POLICY;
        remaining = Number(reply[b]);
        resetMs = Number(reply[b + 1]);
        receipts.push(Number(reply[b + 2]));
      } else {
        const b = 2 + i * PER_POLICY;
        ok = Number(reply[b]) === 1;
        remaining = Number(reply[b + 1]);
        resetMs = Number(reply[b + 2]);
        retry = Number(reply[b + 3]);
        receipts.push(Number(reply[b + 4]));
      }
      results.push({
        name: p.name,
        algorithm: p.algorithm,
        limit: p.limit,
        window: p.window,
        capacity: p.capacity,
        ok,
        remaining,
        resetMs,
        retryAfterMs: retry,
      });
      if (!ok) {
        violated.push(p.name);
        if (retry > retryAfterMs) retryAfterMs = retry;
      }
    }
    const shadow = this.settings.shadow;
    const decision: RateLimitDecision = {
      allowed: admitted || shadow,
      limited: !admitted,
      shadow,
      source,
      key,
      cost,
      policies: results,
      violated,
      retryAfterMs,
      timeUs: Number(reply[0]),
      ...(error ? { error } : {}),
    };
    if (admitted && cost > 0) this.attachReceipt(decision, cost, policies, keys, receipts, lease, source);
    return decision;
  }

  /** What refund() and release() need later, kept on the decision out of sight. */
  private attachReceipt(
    decision: RateLimitDecision,
    cost: number,
    policies: readonly ResolvedPolicy[],
    keys: readonly string[],
    receipts: number[],
    lease: string,
    source: 'redis' | 'local',
  ): void {
    const stateKeys: string[] = [];
    for (let i = 0; i < policies.length; i++) stateKeys.push(keys[2 * i]!);
    const receipt: Receipt = {
      source,
      policies,
      stateKeys,
      receipts,
      leaseId: lease,
      charged: true,
      cost,
      refunded: false,
      released: false,
    };
    if (source === 'redis' && lease !== '') {
      // Keep the lease alive while the work goes on; a dead process stops renewing.
      const every = Math.max(50, Math.floor(this.settings.leaseTtl / 3));
      receipt.renewTimer = setInterval(() => {
        const args = this.settleArgs('none', 0, 'renew', lease, receipt.policies, receipts);
        void this.kit.attempt(FEATURE, 'renew', 'open', (redis) => settleScript.call(redis, stateKeys, args)).catch(() => {});
      }, every);
      receipt.renewTimer.unref();
      renewals.register(decision, receipt.renewTimer);
    }
    Object.defineProperty(decision, RECEIPT, { value: receipt, enumerable: false });
  }

  private finish(d: RateLimitDecision, cost: number): RateLimitDecision {
    const events = this.kit.events;
    // Payloads are built only for events someone listens to.
    if (d.limited) {
      if (d.shadow) this.counters.shadowLimited++;
      else this.counters.limited++;
      if (events.listenerCount('ratelimit:limited') > 0) {
        events.emit('ratelimit:limited', {
          limiter: this.name,
          key: d.key,
          policies: [...d.violated],
          cost,
          retryAfterMs: d.retryAfterMs,
          shadow: d.shadow,
          source: d.source,
        });
      }
      return d;
    }
    this.counters.allowed++;
    if (events.listenerCount('ratelimit:allowed') > 0) {
      events.emit('ratelimit:allowed', { limiter: this.name, key: d.key, policies: d.policies.map((p) => p.name), cost, source: d.source });
    }
    const ratio = this.settings.nearLimitRatio;
    if (ratio > 0 && events.listenerCount('ratelimit:near-limit') > 0) {
      for (const p of d.policies) {
        const spent = p.algorithm === 'concurrency' ? (cost > 0 ? 1 : 0) : cost;
        if (spent === 0) continue;
        const threshold = Math.floor(p.capacity * ratio);
        if (p.remaining <= threshold && p.remaining + spent > threshold) {
          events.emit('ratelimit:near-limit', { limiter: this.name, key: d.key, policy: p.name, remaining: p.remaining, limit: p.capacity });
        }
      }
    }
    return d;
  }
}

/** A policy's five script arguments: algorithm, limit, window, burst, then `last` (consume: block duration; settle: receipt). */
function policyArgs(p: ResolvedPolicy, last: number): string[] {
  return [String(p.code), String(p.limit), String(p.window), String(p.burst), String(last)];
}

/** The same with limit (and burst for token bucket and GCRA) scaled by `share`, for the local fail policy. */
function scaledArgs(p: ResolvedPolicy, share: number, last: number): ScriptArg[] {
  const scale = (v: number) => (share >= 1 ? v : Math.max(1, Math.floor(v * share)));
  const burst = p.algorithm === 'token-bucket' || p.algorithm === 'gcra' ? scale(p.burst) : p.burst;
  return [p.code, scale(p.limit), p.window, burst, last];
}

/** Process time in microseconds on a monotonic base, for the local limiter. */
function nowUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * Creates a {@link RateLimiter}.
 *
 * @example
 * const jobs = createRateLimiter(kit, { name: 'jobs', algorithm: 'token-bucket', limit: 20, window: 1000, burst: 40 });
 * const d = await jobs.consume(tenantId, { cost: batch.length });
 */
export function createRateLimiter(kit: RedisKit, options: RateLimiterOptions): RateLimiter {
  return new RateLimiter(kit, options);
}
