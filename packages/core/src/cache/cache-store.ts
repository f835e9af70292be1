import { randomBytes } from 'node:crypto';
import { RedisKitError } from '../errors';
import { LUA } from '../generated/lua';
import type { EntityKeys } from '../keys';
import type { RedisKit } from '../redis/redis-kit';
import { defineScript } from '../redis/script';
import { digest } from './cache-key';
import type { ResolvedCacheOptions } from './options';

const lookupScript = defineScript(LUA.cacheLookup);
const storeScript = defineScript(LUA.cacheStore);
const purgeScript = defineScript<number>(LUA.cachePurge);

/** What the store keeps beside the body; JSON in the entry. */
export interface EntryMeta {
  /** `http` response, or a `json` / `buffer` value of the cache-aside API. */
  k: 'http' | 'json' | 'buffer';
  /** The key as the user knows it (normalized URL or `wrap` key). */
  u: string;
  /** HTTP status. */
  s?: number;
  /** HTTP headers, in order. */
  h?: Array<[string, string]>;
  /** 1 when requests with Authorization may use it. */
  a?: 1;
  /** Tags the entry was stored with. */
  t: string[];
  /** Header names it varies on. */
  v: string[];
}

/** An entry as read back. Times are Redis server time in ms. */
export interface StoredEntry {
  meta: EntryMeta;
  body: Buffer;
  bornAt: number;
  freshUntil: number;
}

/** Where one cache key lives: its shard and the keys of its records. */
export interface CacheTarget {
  /** The key as the user knows it. */
  readonly name: string;
  readonly pk: string;
  readonly shard: number;
  readonly space: EntityKeys;
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

function decodeEntry(meta: unknown, body: unknown, bornAt: unknown, freshUntil: unknown): StoredEntry | undefined {
  try {
    return {
      meta: JSON.parse(str(meta)) as EntryMeta,
      body: Buffer.isBuffer(body) ? body : Buffer.from(str(body)),
      bornAt: num(bornAt),
      freshUntil: num(freshUntil),
    };
  } catch {
    // An entry that does not decode is treated as missing.
    return undefined;
  }
}

/**
 * The cache's Redis records and the three scripts over them. Everything about
 * one key lives in one shard (one hash tag), so each decision is one script:
 *
 *   {cache:N}:e:<pk>:<variant>  entry (hash: meta, body, tag bindings, times)
 *   {cache:N}:v:<pk>            vary record (header names the URL's responses vary on)
 *   {cache:N}:l:<pk>:<variant>  fill lock
 *   {cache:N}:x:<pk>            pass marker
 *   {cache:N}:u:<pk>            the URL's own tag record (purged by mutations)
 *   {cache:N}:t:<tag>           tag record (version, soft version, purge times)
 *   {cache:N}:p                 the shard's last hard purge time
 */
export class CacheStore {
  constructor(
    private readonly kit: RedisKit,
    private readonly options: ResolvedCacheOptions,
  ) {}

  /** `kind` keeps HTTP entries (`h`) and cache-aside values (`v`) apart. */
  target(kind: 'h' | 'v', name: string): CacheTarget {
    const pk = digest(`${kind}\n${name}`);
    const shard = Buffer.from(pk, 'base64url').readUInt32BE(0) % this.options.shards;
    return { name, pk, shard, space: this.shardSpace(shard) };
  }

  shardSpace(shard: number): EntityKeys {
    return this.kit.keys.entity('cache', shard);
  }

  entryKey(t: CacheTarget, variant: string): string {
    return t.space.key('e', t.pk, variant);
  }

  private keysOf(t: CacheTarget, variant: string): [string, string, string, string] {
    return [this.entryKey(t, variant), t.space.key('v', t.pk), t.space.key('l', t.pk, variant), t.space.key('x', t.pk)];
  }

  urlRecord(t: CacheTarget): string {
    return t.space.key('u', t.pk);
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
    const [entry, vary, lock, pass] = this.keysOf(t, variant);
    const reply = await lookupScript.runBuffer<unknown[]>(this.kit, [vary, entry, lock, pass], [
      JSON.stringify(assumedVary),
      options.token,
      this.options.lockTtl,
      options.mayLock ? '1' : '0',
      // (0, 1]: log(0) would be -infinity
      1 - Math.random(),
      this.options.beta,
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
      const entry = decodeEntry(reply[2], reply[3], reply[4], reply[5]);
      if (!entry) return { kind: 'none', now };
      const refresh = Number(reply[6]) === 1;
      if (kind === 'hit') return { kind, now, entry, refresh };
      return { kind, now, entry, refresh, reason: str(reply[7]) === 'soft-purge' ? 'soft-purge' : 'expired' };
    }
    const state = kind as 'lead' | 'wait' | 'pass' | 'none';
    if (reply.length > 2) {
      const fallback = decodeEntry(reply[2], reply[3], reply[4], reply[5]);
      if (fallback) return { kind: state, now, fallback };
    }
    return { kind: state, now };
  }

  /** Stores a fill (one script in the key's shard). */
  async store(t: CacheTarget, variant: string, fill: FillToStore): Promise<StoreOutcome> {
    const keys = [
      ...this.keysOf(t, variant),
      this.shardPurges(t.space),
      this.urlRecord(t),
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
        JSON.stringify(fill.meta),
        fill.body,
        JSON.stringify(fill.meta.v),
        randomBytes(9).toString('base64url'),
        this.options.fillHorizon,
        this.options.passTtl,
        Math.max(0, Math.round(fill.delta)),
      ],
      { timeout: this.options.storeTimeout },
    );
    return String(result) as StoreOutcome;
  }

  /** Releases a fill lock; with `pass`, also marks the URL as recently not storable. */
  async release(t: CacheTarget, variant: string, token: string, pass: boolean): Promise<void> {
    await storeScript.run(this.kit, this.keysOf(t, variant), [pass ? 'pass' : 'release', token, 0, 0, 0, 0, '', '', '', '', 0, this.options.passTtl, 0]);
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
    const shards = Array.from({ length: this.options.shards }, (_, i) => this.shardSpace(i));
    const results = await Promise.allSettled(
      shards.map((space) =>
        purgeScript.run(
          this.kit,
          [this.shardPurges(space), ...unique.map((tag) => this.tagRecord(space, tag))],
          [soft ? 'soft' : 'hard', version, this.options.fillHorizon],
        ),
      ),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) {
      throw new RedisKitError(
        'ERR_REDISKIT_CACHE_PURGE',
        `cache purge of ${unique.length} tag(s) failed on ${failed.length} of ${shards.length} shards: ${String((failed[0]!.reason as Error)?.message ?? failed[0]!.reason)}`,
        { cause: failed[0]!.reason, details: { tags: unique, failedShards: failed.length } },
      );
    }
  }

  /** Purges one URL's (or key's) own record: one script in its shard. */
  async purgeTarget(t: CacheTarget, soft: boolean): Promise<void> {
    await purgeScript.run(this.kit, [this.shardPurges(t.space), this.urlRecord(t)], [soft ? 'soft' : 'hard', randomBytes(9).toString('base64url'), this.options.fillHorizon]);
  }
}
