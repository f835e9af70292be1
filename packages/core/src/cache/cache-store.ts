import { randomBytes } from 'node:crypto';
import { RedisKitError } from '../errors';
import { LUA } from '../generated/lua';
import type { EntityKeys } from '../keys';
import type { RedisKit } from '../redis/redis-kit';
import { defineScript } from '../redis/script';
import { digest } from './cache-key';
import { decodeEntry, encodeMeta, type EntryMeta, type StoredEntry } from './entry-codec';
import type { ResolvedCacheOptions } from './options';

const lookupScript = defineScript(LUA.cacheLookup);
const storeScript = defineScript(LUA.cacheStore);
const purgeScript = defineScript<number>(LUA.cachePurge);
const purgeUrlScript = defineScript<number>(LUA.cachePurgeUrl);

export type { EntryMeta, StoredEntry } from './entry-codec';

/** Where one cache key lives: its shard and the keys of its records. */
export interface CacheTarget {
  /** The key as the user knows it. */
  readonly name: string;
  readonly pk: string;
  readonly shard: number;
  readonly space: EntityKeys;
  /** The URL's head. */
  readonly head: string;
  /** head (as entry), head, fill lock, pass marker: the keys of a response that does not vary. */
  readonly plainKeys: readonly [string, string, string, string];
}

export type LookupReply =
  | { kind: 'vary'; now: number; vary: string[] }
  | { kind: 'hit'; now: number; entry: StoredEntry; refresh: boolean }
  | { kind: 'stale'; now: number; entry: StoredEntry; refresh: boolean; reason: 'expired' | 'soft-purge' }
  | { kind: 'lead' | 'wait' | 'pass' | 'none'; now: number; fallback?: StoredEntry };

export type StoreOutcome = 'stored' | 'purged' | 'newer' | 'expired' | 'too-old';

export interface FillToStore {
  token: string;
  bornAt: number;
  freshMs: number;
  staleWhileRevalidateMs: number;
  staleIfErrorMs: number;
  meta: EntryMeta;
  body: Buffer;
  tags: readonly string[];
  /** How long the fill took, in ms (for early refresh). */
  delta: number;
}

const str = (b: unknown): string => (Buffer.isBuffer(b) ? b.toString('utf8') : String(b));
const num = (b: unknown): number => Number(str(b));

/** The keys of one shard that are not per URL. */
interface ShardKeys {
  readonly space: EntityKeys;
  /** The shard's last hard purge time. */
  readonly purges: string;
  /** What every tag record key of the shard starts with (entries store the rest). */
  readonly tagPrefix: string;
}

/**
 * The cache's Redis records and the scripts over them. Everything about one
 * key lives in one shard (one hash tag), so each decision is one script:
 *
 *   {cache:N}:r:<pk>            head: the entry when the responses do not vary, else the
 *                               record of the vary list and the variants' generation;
 *                               also the URL's last purge times
 *   {cache:N}:r:<pk>:<variant>  entry of one variant (only when the responses vary)
 *   {cache:N}:l:<pk>:<variant>  fill lock
 *   {cache:N}:x:<pk>            pass marker
 *   {cache:N}:t:<tag>           tag record (version, purge times)
 *   {cache:N}:p                 the shard's last hard purge time
 *
 * An entry is one string (header, meta, body: see `entry-codec.ts`), so a hit
 * on a URL whose responses do not vary reads one key.
 */
export class CacheStore {
  private readonly shards: ShardKeys[];
  /** Targets by kind and name, so a hit hashes no key and builds no key name (at most `hintCacheSize`). */
  private readonly targets = new Map<string, CacheTarget>();

  constructor(
    private readonly kit: RedisKit,
    private readonly options: ResolvedCacheOptions,
  ) {
    this.shards = Array.from({ length: options.shards }, (_, i) => {
      const space = kit.keys.entity('cache', i);
      return { space, purges: space.key('p'), tagPrefix: space.key('t') + kit.keys.separator };
    });
  }

  /** `kind` keeps HTTP entries (`h`) and cache-aside values (`v`) apart. */
  target(kind: 'h' | 'v', name: string): CacheTarget {
    const id = `${kind}\n${name}`;
    let t = this.targets.get(id);
    if (t) return t;
    const pk = digest(id);
    const shard = Buffer.from(pk, 'base64url').readUInt32BE(0) % this.options.shards;
    const space = this.shardSpace(shard);
    const head = space.key('r', pk);
    t = { name, pk, shard, space, head, plainKeys: [head, head, space.key('l', pk, '-'), space.key('x', pk)] };
    const room = this.options.hintCacheSize;
    if (room > 0) {
      if (this.targets.size >= room) this.targets.delete(this.targets.keys().next().value!);
      this.targets.set(id, t);
    }
    return t;
  }

  shardSpace(shard: number): EntityKeys {
    return this.shards[shard]!.space;
  }

  /** The URL's head: its entry, or the record of its variants. */
  headKey(t: CacheTarget): string {
    return t.head;
  }

  /** Where the entry of a variant lives: the head when the responses do not vary. */
  entryKey(t: CacheTarget, variant: string): string {
    return variant === '-' ? t.head : t.space.key('r', t.pk, variant);
  }

  /** entry, head, lock, pass marker: the keys the lookup and the store share. */
  private keysOf(t: CacheTarget, variant: string): readonly [string, string, string, string] {
    if (variant === '-') return t.plainKeys;
    return [t.space.key('r', t.pk, variant), t.head, t.space.key('l', t.pk, variant), t.plainKeys[3]];
  }

  /** The shard's last hard purge time. */
  shardPurges(space: EntityKeys): string {
    return space.key('p');
  }

  tagRecord(space: EntityKeys, tag: string): string {
    return space.key('t', tag);
  }

  /** One lookup script; rejects with a coded error when Redis fails. */
  async lookup(
    t: CacheTarget,
    assumedVary: readonly string[],
    variant: string,
    options: { token: string; mayLock: boolean },
  ): Promise<LookupReply> {
    const keys = this.keysOf(t, variant);
    // The head first: for a response that does not vary it is the entry as well.
    const reply = await lookupScript.runBuffer<unknown[]>(this.kit, variant === '-' ? keys : [keys[1], keys[0], keys[2], keys[3]], [
      assumedVary.length === 0 ? '[]' : JSON.stringify(assumedVary),
      options.token,
      this.options.lockTtl,
      options.mayLock ? '1' : '0',
      // (0, 1]: log(0) would be -infinity
      1 - Math.random(),
      this.options.beta,
      this.shards[t.shard]!.tagPrefix,
    ]);
    const kind = str(reply[0]);
    const now = num(reply[1]);
    if (kind === 'vary') {
      let vary: string[] = [];
      try {
        const parsed: unknown = JSON.parse(str(reply[2]));
        if (Array.isArray(parsed) && parsed.every((n) => typeof n === 'string')) vary = parsed;
      } catch {
        vary = [];
      }
      return { kind, now, vary };
    }
    if (kind === 'hit' || kind === 'stale') {
      const entry = decodeEntry(reply[2] as Buffer, assumedVary);
      if (!entry) return { kind: 'none', now };
      const refresh = Number(reply[3]) === 1;
      if (kind === 'hit') return { kind, now, entry, refresh };
      return { kind, now, entry, refresh, reason: str(reply[4]) === 'soft-purge' ? 'soft-purge' : 'expired' };
    }
    const state = kind as 'lead' | 'wait' | 'pass' | 'none';
    if (reply.length > 2) {
      const fallback = decodeEntry(reply[2] as Buffer, assumedVary);
      if (fallback) return { kind: state, now, fallback };
    }
    return { kind: state, now };
  }

  /** Stores a fill (one script in the key's shard). */
  async store(t: CacheTarget, variant: string, fill: FillToStore): Promise<StoreOutcome> {
    const shard = this.shards[t.shard]!;
    const keys = [
      ...this.keysOf(t, variant),
      shard.purges,
      ...[...new Set(fill.tags)].map((tag) => this.tagRecord(t.space, tag)),
    ];
    const result = await storeScript.run(
      this.kit,
      keys,
      [
        'store',
        fill.token,
        fill.bornAt,
        Math.max(0, Math.round(fill.freshMs)),
        Math.max(0, Math.round(fill.staleWhileRevalidateMs)),
        Math.max(0, Math.round(fill.staleIfErrorMs)),
        encodeMeta(fill.meta),
        fill.body,
        fill.meta.v.length === 0 ? '[]' : JSON.stringify(fill.meta.v),
        randomBytes(9).toString('base64url'),
        this.options.fillHorizon,
        this.options.passTtl,
        Math.max(0, Math.round(fill.delta)),
        shard.tagPrefix,
      ],
      { timeout: this.options.storeTimeout },
    );
    return String(result) as StoreOutcome;
  }

  /** Releases a fill lock; with `pass`, also marks the URL as recently not storable. */
  async release(t: CacheTarget, variant: string, token: string, pass: boolean): Promise<void> {
    await storeScript.run(this.kit, this.keysOf(t, variant), [pass ? 'pass' : 'release', token, 0, 0, 0, 0, '', '', '', '', 0, this.options.passTtl, 0, '']);
  }

  /**
   * Purges `tags` in every shard, one script per shard, all in parallel.
   * Resolves once every shard has it; rejects with ERR_REDISKIT_CACHE_PURGE
   * (cause: the first failure) when any shard failed.
   */
  async purgeTags(tags: readonly string[], soft: boolean): Promise<void> {
    const unique = [...new Set(tags)];
    if (unique.length === 0) return;
    const version = randomBytes(9).toString('base64url');
    const results = await Promise.allSettled(
      this.shards.map(({ space, purges }) =>
        purgeScript.run(
          this.kit,
          [purges, ...unique.map((tag) => this.tagRecord(space, tag))],
          [soft ? 'soft' : 'hard', version, this.options.fillHorizon],
        ),
      ),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) {
      throw new RedisKitError(
        'ERR_REDISKIT_CACHE_PURGE',
        `cache purge of ${unique.length} tag(s) failed on ${failed.length} of ${this.shards.length} shards: ${String((failed[0]!.reason as Error)?.message ?? failed[0]!.reason)}`,
        { cause: failed[0]!.reason, details: { tags: unique, failedShards: failed.length } },
      );
    }
  }

  /** Purges one URL (or key) through its head: one script in its shard. */
  async purgeTarget(t: CacheTarget, soft: boolean): Promise<void> {
    await purgeUrlScript.run(this.kit, [this.shards[t.shard]!.purges, this.headKey(t)], [
      soft ? 'soft' : 'hard',
      randomBytes(9).toString('base64url'),
      this.options.fillHorizon,
    ]);
  }
}
