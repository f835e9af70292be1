import { createHash } from 'node:crypto';
import { RedisKitError } from '../errors';
import { LUA } from '../generated/lua';
import { globEscape } from '../keys';
import { toRedisKitError } from '../redis/errors-map';
import type { RedisKit } from '../redis/redis-kit';
import { defineScript, type ScriptArg } from '../redis/script';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionOptions, type SessionRecord } from './options';
import { isPlainRecord, jsonSerializer, stripPrototypeKeys } from './serializer';
import { parseStoredValue, type StoredValue } from './stored-value';

type Status3 = [number, number, string];

const saveScript = defineScript<Status3>(LUA.sessionSave);
const touchScript = defineScript<Status3>(LUA.sessionTouch);
const destroyScript = defineScript<[number, string]>(LUA.sessionDestroy);
const indexAdd = defineScript<number>(LUA.sessionIndexAdd);
const indexRead = defineScript<string[]>(LUA.sessionIndexRead);
const indexForget = defineScript<number>(LUA.sessionIndexForget);

const FEATURE = 'session';
const DAY = 86_400_000;
const RECENT_LIMIT = 10_000;
// The most an 'auto' touchAfter lets the stored expiry lag behind.
const AUTO_TOUCH_AFTER_MAX = 60_000;
const BATCH = 200;
const SKIPPED: Promise<TouchOutcome> = Promise.resolve('skipped');
/** Characters key escaping leaves alone (besides the separator): express-session's base64url ids. */
const PLAIN_ID = /^[A-Za-z0-9_-]+$/;

/** Outcome of {@link SessionEngine.set}. */
export type SaveOutcome =
  /** First write of this id. */
  | 'created'
  /** An existing session was rewritten. */
  | 'updated'
  /** The id was destroyed within `tombstoneTtl`: nothing written (the logout race guard). */
  | 'refused'
  /** The ttl was zero or less, or the absolute lifetime had passed: the session was deleted. */
  | 'deleted';

/** Outcome of {@link SessionEngine.touch}. */
export type TouchOutcome = 'touched' | 'skipped' | 'missing' | 'deleted';

/** Per-call options of {@link SessionEngine.set} and {@link SessionEngine.touch}. */
export interface WriteOptions {
  /** Idle lifetime in ms chosen by the framework (koa-session's maxAge); wins over `cookie.expires` and `ttl`. */
  ttl?: number;
  /**
   * Store the payload as one value, without keeping `cookie` apart (koa-session
   * payloads have no cookie). Default false.
   */
  whole?: boolean;
}

/** One live session of a user, as {@link SessionEngine.listSessions} returns it. */
export interface SessionInfo {
  /** The session id: a bearer secret. Never send other sessions' ids to a browser; use `handle`. */
  id: string;
  /** A short one-way hash of the id, safe to show and to pass to {@link SessionEngine.revokeSession}. */
  handle: string;
  userId: string;
  /** Creation time, ms since the epoch (Redis clock). */
  createdAt: number;
  /** Current expiry, ms since the epoch (Redis clock). */
  expiresAt: number;
  /** The session data (with `cookie` when stored by express-session). */
  data: SessionRecord;
  /** True for the id given as `current`. */
  current: boolean;
}

interface Recent {
  /** cookie.expires as read (app clock), if any. */
  expires: number | undefined;
  owner: string;
  bound: number;
}

interface Budget {
  readonly deadline: number;
}

/**
 * Remembers what the last read of an id saw, for the touch that follows it in
 * the same request: whether the touch can be skipped (`touchAfter`) and
 * whether the owner's index bound needs raising first. Bounded; losing an
 * entry only costs a round trip.
 */
class RecentReads {
  private readonly map = new Map<string, Recent>();
  set(id: string, value: Recent): void {
    this.map.delete(id);
    this.map.set(id, value);
    if (this.map.size > RECENT_LIMIT) this.map.delete(this.map.keys().next().value!);
  }
  peek(id: string): Recent | undefined {
    return this.map.get(id);
  }
  take(id: string): Recent | undefined {
    const value = this.map.get(id);
    this.map.delete(id);
    return value;
  }
}

function cookieExpiresMs(cookie: unknown): number | undefined {
  if (!cookie || typeof cookie !== 'object') return undefined;
  const expires = (cookie as { expires?: unknown }).expires;
  let ms: number;
  if (expires instanceof Date) ms = expires.getTime();
  else if (typeof expires === 'string') ms = Date.parse(expires);
  else if (typeof expires === 'number') ms = expires;
  else return undefined;
  return Number.isFinite(ms) ? ms : undefined;
}

function plainCookie(cookie: object): Record<string, unknown> {
  const withJson = cookie as { toJSON?: () => unknown };
  const plain = typeof withJson.toJSON === 'function' ? withJson.toJSON() : { ...cookie };
  return isPlainRecord(plain) ? plain : {};
}

function unescapePart(part: string): string {
  return part.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * The framework-free session engine behind the express-session store, the
 * koa-session store and the Nest service.
 *
 * Layout, all under the context prefix `P` and the namespace `N` (default
 * `sess`):
 * - `P:{N:<id>}` one string: created, expires-at, deadline, owner, index
 *   bound, cookie and data (format in session-save.lua); its TTL is the
 *   session's idle expiry, clamped to the absolute deadline.
 * - `P:{N:<id>}:x` a tombstone left by destroy for `tombstoneTtl`: saves of
 *   that id are refused meanwhile (the logout race).
 * - `P:{N.u:<user>}` the owner's index: a sorted set of session ids scored by
 *   a bound each session cannot outlive. It lives in another slot than the
 *   sessions (Cluster), so it is written first and checked when read.
 *
 * @example
 * const sessions = new SessionEngine(kit, { absoluteLifetime: 7 * 86_400_000 });
 * await sessions.set(id, { userId: 'u1', cookie: { expires: new Date(Date.now() + 3_600_000) } });
 * await sessions.revokeSessions('u1', { except: currentId }); // log out everywhere else
 */
export class SessionEngine {
  readonly options: ResolvedSessionOptions;
  private readonly recent = new RecentReads();
  private readonly sessionPattern: string;
  private readonly indexPattern: string;
  private readonly sessionKeyHead: string;
  private readonly separatorInIds: boolean;
  private readonly tombstoneSuffix: string;

  constructor(
    readonly kit: RedisKit,
    options: SessionOptions = {},
    where = 'sessions',
  ) {
    if (!kit || typeof kit.exec !== 'function') {
      throw new RedisKitError('ERR_REDISKIT_NO_CONNECTION', `${where}: give a rediskit context (createRedisKit())`);
    }
    this.options = resolveSessionOptions(where, options);
    const { prefix, separator } = kit.keys;
    const ns = kit.keys.part(this.options.namespace);
    this.sessionKeyHead = `${prefix}${separator}{${ns}${separator}`;
    // The separator is escaped in a key part, and it may be one of the id characters.
    this.separatorInIds = PLAIN_ID.test(separator);
    this.tombstoneSuffix = kit.keys.part('x');
    this.sessionPattern = `${globEscape(this.sessionKeyHead)}*}`;
    this.indexPattern = `${globEscape(`${prefix}${separator}{${kit.keys.part(`${this.options.namespace}.u`)}${separator}`)}*}`;
  }

  /** A short, one-way, non-secret name of a session id (for logs, events and "your devices" pages). */
  handleOf(id: string): string {
    return createHash('sha256').update('rediskit-session\0').update(id).digest('base64url').slice(0, 16);
  }

  /** Reads a session: one Redis command (GET). Resolves null when there is none or it cannot be read. */
  async get(id: string): Promise<SessionRecord | null> {
    const key = this.sessionKey(this.checkId(id));
    let raw: Buffer | null;
    try {
      raw = await this.kit.exec((redis) => redis.getBuffer(key), { operation: 'session get', coalesce: true });
      this.kit.noteSuccess(FEATURE);
    } catch (error) {
      const coded = toRedisKitError(error, 'session get');
      const open = coded.code === 'ERR_REDISKIT_UNAVAILABLE' || this.options.failPolicy === 'open';
      this.kit.noteFailure(FEATURE, 'get', open ? 'open' : 'closed', coded);
      if (open) return null;
      throw coded;
    }
    const stored = this.parse(id, raw);
    if (!stored) return null;
    const session = this.decode(id, stored);
    if (!session) return null;
    this.recent.set(id, { expires: cookieExpiresMs(session['cookie']), owner: stored.owner, bound: stored.bound });
    return session;
  }

  /**
   * Writes a session with a ttl from `options.ttl`, else `cookie.expires`,
   * else the `ttl` option; zero or less deletes it. Refused (nothing written)
   * when the id was destroyed within `tombstoneTtl`.
   */
  set(id: string, session: SessionRecord, options: WriteOptions = {}): Promise<SaveOutcome> {
    return this.write('set', async (budget) => {
      this.checkId(id);
      if (!isPlainRecord(session)) {
        throw new RedisKitError('ERR_REDISKIT_SERIALIZE', 'a session must be an object');
      }
      const ttl = this.ttlFor(session, options);
      const memo = this.recent.take(id);
      if (ttl <= 0) {
        await this.remove(id, budget);
        return 'deleted';
      }
      let data: SessionRecord = session;
      let cookie: unknown;
      if (!options.whole && session['cookie'] && typeof session['cookie'] === 'object') {
        const { cookie: c, ...rest } = session;
        data = rest;
        cookie = plainCookie(c as object);
      }
      const d = this.encode(id, 'd', data);
      const c = cookie === undefined ? '' : this.encode(id, 'c', cookie);
      const owner = this.ownerOf(session);
      const rawId = this.rawIdArg(id);
      let bound = 0;
      if (owner && !(memo && memo.owner === owner && memo.bound >= Date.now() + ttl)) {
        bound = await this.raiseBound(owner, id, Date.now() + ttl + this.slack(ttl), budget);
      }
      const [status, , previous] = await this.runRaisingBound(
        id,
        ttl,
        bound,
        budget,
        (raised) =>
          saveScript.run(
            this.kit,
            [this.sessionKey(id), this.tombstoneKey(id)],
            [d, c, ttl, owner, this.options.absoluteLifetime, raised, rawId],
            { timeout: this.left(budget) },
          ),
        // The bound to raise is the new owner's (the previous one may differ).
        () => owner,
      );
      switch (status) {
        case 0:
          this.kit.events.emit('session:save-refused', { handle: this.handleOf(id) });
          return 'refused';
        case 1:
          this.kit.events.emit('session:created', { handle: this.handleOf(id), ...(owner ? { userId: owner } : {}) });
          return 'created';
        case 2:
          return 'updated';
        case 4:
          await this.ended(id, previous, 'expired', budget);
          return 'deleted';
        default:
          throw new RedisKitError('ERR_REDISKIT_SCRIPT', `session save: unexpected status ${String(status)}`);
      }
    });
  }

  /**
   * The part of {@link touch} that needs no Redis, run synchronously: true
   * when the touch is skipped because the read of this id in this process saw
   * a stored expiry within `touchAfter` of the new one (the read's memo is
   * then used up, as touch() would). False means "call touch()": it was not
   * decided here (no memo, a stale expiry, a ttl of zero or less, bad input),
   * and nothing changed. Lets the express-session store answer a skipped
   * touch in the same tick, so express-session ends the response in one write
   * instead of a chunked body and a separate end.
   *
   * @example
   * if (!engine.skipTouch(id, session)) await engine.touch(id, session);
   */
  skipTouch(id: string, session: SessionRecord, options: WriteOptions = {}): boolean {
    if (typeof id !== 'string' || !isPlainRecord(session)) return false;
    const memo = this.recent.peek(id);
    if (memo?.expires === undefined) return false;
    let ttl: number;
    try {
      ttl = this.ttlFor(session, options);
    } catch {
      return false; // touch() reports it
    }
    if (ttl <= 0 || !this.isFresh(memo, ttl, session['cookie'])) return false;
    this.recent.take(id);
    this.kit.noteSuccess(FEATURE);
    return true;
  }

  /**
   * Extends a live session and rewrites its stored cookie (one script); never
   * re-creates a session that is gone. Skipped without a round trip when the
   * read in this process saw an expiry less than `touchAfter` older (see
   * {@link skipTouch}).
   */
  touch(id: string, session: SessionRecord, options: WriteOptions = {}): Promise<TouchOutcome> {
    if (this.skipTouch(id, session, options)) return SKIPPED;
    return this.write('touch', async (budget) => {
      this.checkId(id);
      if (!isPlainRecord(session)) {
        throw new RedisKitError('ERR_REDISKIT_SERIALIZE', 'a session must be an object');
      }
      const ttl = this.ttlFor(session, options);
      const memo = this.recent.take(id);
      if (ttl <= 0) {
        await this.remove(id, budget);
        return 'deleted';
      }
      const rawCookie = session['cookie'];
      if (memo && this.isFresh(memo, ttl, rawCookie)) return 'skipped';
      const c = !options.whole && rawCookie && typeof rawCookie === 'object' ? this.encode(id, 'c', plainCookie(rawCookie)) : '';
      let bound = 0;
      if (memo?.owner && memo.bound < Date.now() + ttl) {
        bound = await this.raiseBound(memo.owner, id, Date.now() + ttl + this.slack(ttl), budget);
      }
      const [status, , owner] = await this.runRaisingBound(
        id,
        ttl,
        bound,
        budget,
        (raised) => touchScript.run(this.kit, [this.sessionKey(id)], [c, ttl, raised], { timeout: this.left(budget) }),
        // The stored owner, as the script reports it.
        ([, , stored]) => stored,
      );
      switch (status) {
        case 0:
          return 'missing';
        case 1:
          return 'touched';
        case 4:
          await this.ended(id, owner, 'expired', budget);
          return 'deleted';
        default:
          throw new RedisKitError('ERR_REDISKIT_SCRIPT', `session touch: unexpected status ${String(status)}`);
      }
    });
  }

  /**
   * Deletes a session and leaves a tombstone so that no save still in flight
   * for this id brings it back. Resolves true when a session existed.
   * `tombstone: false` leaves none: only for an id that no other request can
   * know (made in this request, its cookie not sent).
   */
  destroy(id: string, options: { tombstone?: boolean } = {}): Promise<boolean> {
    return this.write('destroy', async (budget) => {
      this.checkId(id);
      this.recent.take(id);
      const [status, owner] = await destroyScript.run(
        this.kit,
        [this.sessionKey(id), this.tombstoneKey(id)],
        [options.tombstone === false ? 0 : this.options.tombstoneTtl, ''],
        { timeout: this.left(budget) },
      );
      if (status === 1) await this.ended(id, owner, 'destroy', budget);
      return status === 1;
    });
  }

  /** Ids of every stored session (SCAN over every master; each once). Not for the request path. */
  async ids(): Promise<string[]> {
    return this.admin('ids', async () => {
      const ids = new Set<string>();
      const hashed: string[] = [];
      for await (const key of this.kit.scan(this.sessionPattern, { count: this.options.scanCount })) {
        const part = key.slice(this.sessionKeyHead.length, -1);
        if (part.startsWith('#')) hashed.push(key);
        else ids.add(unescapePart(part));
      }
      for (let i = 0; i < hashed.length; i += BATCH) {
        const values = await Promise.all(hashed.slice(i, i + BATCH).map((key) => this.kit.exec((r) => r.getBuffer(key))));
        for (const value of values) {
          const rawId = value ? parseStoredValue(value)?.rawId : undefined;
          if (rawId) ids.add(rawId);
        }
      }
      return [...ids];
    });
  }

  /** Every stored session that can be read, with its id (SCAN over every master). Not for the request path. */
  async all(): Promise<Array<{ id: string; session: SessionRecord }>> {
    return this.admin('all', async () => {
      const out = new Map<string, SessionRecord>();
      let batch: string[] = [];
      const flush = async () => {
        const keys = batch;
        batch = [];
        const values = await Promise.all(keys.map((key) => this.kit.exec((r) => r.getBuffer(key), { operation: 'session all' })));
        values.forEach((value, n) => {
          const stored = value ? parseStoredValue(value) : undefined;
          if (!stored) return;
          const part = keys[n]!.slice(this.sessionKeyHead.length, -1);
          const id = part.startsWith('#') ? stored.rawId : unescapePart(part);
          if (!id || out.has(id)) return;
          const session = this.decode(id, stored);
          if (session) out.set(id, session);
        });
      };
      for await (const key of this.kit.scan(this.sessionPattern, { count: this.options.scanCount })) {
        batch.push(key);
        if (batch.length >= BATCH) await flush();
      }
      if (batch.length > 0) await flush();
      return [...out].map(([id, session]) => ({ id, session }));
    });
  }

  /** Number of stored sessions (SCAN over every master; each counted once). Not for the request path. */
  async length(): Promise<number> {
    return this.admin('length', async () => {
      const seen = new Set<string>();
      for await (const key of this.kit.scan(this.sessionPattern, { count: this.options.scanCount })) seen.add(key);
      return seen.size;
    });
  }

  /**
   * Destroys every session of this namespace (with tombstones, so in-flight
   * saves stay refused) and drops every per-user index. Resolves the number
   * of sessions removed. Not for the request path.
   */
  async clear(): Promise<number> {
    return this.admin('clear', async () => {
      let removed = 0;
      let batch: string[] = [];
      const flush = async () => {
        const keys = batch;
        batch = [];
        const results = await Promise.all(
          keys.map((key) =>
            destroyScript.run(this.kit, [key, this.tombstoneOfKey(key)], [this.options.tombstoneTtl, ''], {
              timeout: this.kit.options.operationTimeout * 10,
            }),
          ),
        );
        for (const [status] of results) if (status === 1) removed++;
      };
      for await (const key of this.kit.scan(this.sessionPattern, { count: this.options.scanCount })) {
        batch.push(key);
        if (batch.length >= BATCH) await flush();
      }
      if (batch.length > 0) await flush();
      const indexes: string[] = [];
      for await (const key of this.kit.scan(this.indexPattern, { count: this.options.scanCount })) indexes.push(key);
      for (let i = 0; i < indexes.length; i += BATCH) {
        await Promise.all(indexes.slice(i, i + BATCH).map((key) => this.kit.exec((r) => r.del(key))));
      }
      this.kit.events.emit('session:cleared', { sessions: removed });
      return removed;
    });
  }

  /**
   * The user's live sessions, oldest bound first. Dead entries met on the way
   * are dropped from the index; a session that ended is never listed.
   */
  listSessions(userId: string | number, options: { current?: string } = {}): Promise<SessionInfo[]> {
    return this.write('listSessions', async (budget) => {
      const owner = this.checkOwner(userId);
      const live = await this.liveEntries(owner, budget);
      const out: SessionInfo[] = [];
      for (const { id, stored } of live) {
        const data = this.decode(id, stored);
        if (!data) continue;
        out.push({
          id,
          handle: this.handleOf(id),
          userId: owner,
          createdAt: stored.createdAt,
          expiresAt: stored.expiresAt,
          data,
          current: options.current !== undefined && id === options.current,
        });
      }
      return out.sort((a, b) => a.createdAt - b.createdAt);
    });
  }

  /** How many live sessions the user has. */
  countSessions(userId: string | number): Promise<number> {
    return this.write('countSessions', async (budget) => {
      const owner = this.checkOwner(userId);
      return (await this.liveEntries(owner, budget)).length;
    });
  }

  /**
   * "Log out everywhere": destroys every session of the user (each with a
   * tombstone, so requests in flight cannot bring one back), except the ids
   * in `except` (typically the current session). Resolves how many were
   * revoked; rejects with ERR_REDISKIT_SESSION_REVOKE_INCOMPLETE if some
   * could not be (retrying is safe).
   */
  revokeSessions(userId: string | number, options: { except?: string | readonly string[] } = {}): Promise<number> {
    return this.write('revokeSessions', async (budget) => {
      const owner = this.checkOwner(userId);
      const except = new Set(typeof options.except === 'string' ? [options.except] : (options.except ?? []));
      const entries = await this.readIndex(owner, budget);
      const targets = entries.filter((e) => !except.has(e.id));
      const kept = entries.length - targets.length;
      const outcome = await this.revokeEach(owner, targets, budget);
      this.kit.events.emit('session:revoked', { userId: owner, revoked: outcome.revoked, kept });
      return outcome.revoked;
    });
  }

  /** Revokes one session of the user by its handle (from listSessions). Resolves false if none matched. */
  revokeSession(userId: string | number, handle: string): Promise<boolean> {
    return this.write('revokeSession', async (budget) => {
      const owner = this.checkOwner(userId);
      const entries = await this.readIndex(owner, budget);
      const target = entries.filter((e) => this.handleOf(e.id) === handle);
      if (target.length === 0) return false;
      const outcome = await this.revokeEach(owner, target, budget);
      return outcome.revoked > 0;
    });
  }

  // --- internals -----------------------------------------------------------

  private async revokeEach(owner: string, targets: Array<{ id: string; score: string }>, budget: Budget) {
    const indexKey = this.indexKey(owner);
    const settled = await Promise.allSettled(
      targets.map((entry) =>
        destroyScript.run(
          this.kit,
          [this.sessionKey(entry.id), this.tombstoneKey(entry.id)],
          [this.options.tombstoneTtl, owner],
          { timeout: this.left(budget) },
        ),
      ),
    );
    let revoked = 0;
    const gone: string[] = [];
    const stale: string[] = [];
    let firstError: unknown;
    let failed = 0;
    settled.forEach((r, n) => {
      const entry = targets[n]!;
      if (r.status === 'rejected') {
        firstError ??= r.reason;
        failed++;
        return;
      }
      const [status] = r.value;
      if (status === 1) {
        revoked++;
        gone.push(entry.id);
        this.kit.events.emit('session:destroyed', { handle: this.handleOf(entry.id), userId: owner, reason: 'revoke' });
      } else {
        stale.push(entry.id, entry.score);
      }
    });
    // Revoked ids carry a tombstone, so removing them outright is safe; the
    // others only if nobody re-added them meanwhile.
    if (gone.length > 0) await this.bestEffort(() => this.kit.exec((r) => r.zrem(indexKey, ...gone), { timeout: this.left(budget) }));
    if (stale.length > 0) await this.bestEffort(() => indexForget.run(this.kit, [indexKey], stale, { timeout: this.left(budget) }));
    if (firstError !== undefined) {
      const cause = toRedisKitError(firstError, 'session revoke');
      throw new RedisKitError(
        'ERR_REDISKIT_SESSION_REVOKE_INCOMPLETE',
        `revoked ${revoked} of ${targets.length} sessions; ${cause.message}`,
        { cause, details: { revoked, failed } },
      );
    }
    return { revoked };
  }

  private async readIndex(owner: string, budget: Budget): Promise<Array<{ id: string; score: string }>> {
    const flat = await indexRead.run(this.kit, [this.indexKey(owner)], [], { timeout: this.left(budget) });
    const out: Array<{ id: string; score: string }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i]!, score: flat[i + 1]! });
    return out;
  }

  /** Index entries whose session exists and still belongs to `owner`; drops the others from the index. */
  private async liveEntries(owner: string, budget: Budget): Promise<Array<{ id: string; stored: StoredValue }>> {
    const entries = await this.readIndex(owner, budget);
    const values = await Promise.all(
      entries.map((entry) =>
        this.kit.exec((r) => r.getBuffer(this.sessionKey(entry.id)), { operation: 'session list', timeout: this.left(budget) }),
      ),
    );
    const live: Array<{ id: string; stored: StoredValue }> = [];
    const stale: string[] = [];
    values.forEach((value, n) => {
      const entry = entries[n]!;
      const stored = value ? parseStoredValue(value) : undefined;
      if (stored && stored.owner === owner) live.push({ id: entry.id, stored });
      else stale.push(entry.id, entry.score);
    });
    if (stale.length > 0) {
      await this.bestEffort(() => indexForget.run(this.kit, [this.indexKey(owner)], stale, { timeout: this.left(budget) }));
    }
    return live;
  }

  /**
   * Runs the save or touch script; while it answers status 3 (the owner's
   * index bound is lower than the new expiry), raises the bound to what it
   * asked for and runs it again, twice at most. Resolves the last answer.
   */
  private async runRaisingBound(
    id: string,
    ttl: number,
    bound: number,
    budget: Budget,
    run: (bound: number) => Promise<Status3>,
    ownerOf: (answer: Status3) => string,
  ): Promise<Status3> {
    for (let attempt = 0; ; attempt++) {
      const answer = await run(bound);
      const [status, expiresAt] = answer;
      if (status !== 3 || attempt >= 2) return answer;
      bound = await this.raiseBound(ownerOf(answer), id, expiresAt + this.slack(ttl), budget);
    }
  }

  private async raiseBound(owner: string, id: string, bound: number, budget: Budget): Promise<number> {
    return indexAdd.run(this.kit, [this.indexKey(owner)], [id, Math.ceil(bound)], { timeout: this.left(budget) });
  }

  private async forgetInIndex(owner: string, id: string, budget: Budget): Promise<void> {
    if (!owner) return;
    // The id is destroyed (tombstone) or expired; lazy pruning covers a failure here.
    await this.bestEffort(() => this.kit.exec((r) => r.zrem(this.indexKey(owner), id), { timeout: this.left(budget) }));
  }

  private async remove(id: string, budget: Budget): Promise<void> {
    const [status, owner] = await destroyScript.run(this.kit, [this.sessionKey(id), this.tombstoneKey(id)], [0, ''], {
      timeout: this.left(budget),
    });
    if (status === 1) await this.ended(id, owner, 'expired', budget);
  }

  /** A session that existed is gone: drops it from its owner's index, then reports it. */
  private async ended(id: string, owner: string, reason: 'expired' | 'destroy', budget: Budget): Promise<void> {
    await this.forgetInIndex(owner, id, budget);
    this.kit.events.emit('session:destroyed', {
      handle: this.handleOf(id),
      ...(owner ? { userId: owner } : {}),
      reason,
    });
  }

  private async bestEffort(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch {
      // an index entry left behind is pruned lazily
    }
  }

  /**
   * Runs a request-path operation under one operation timeout in total, however
   * many round trips it takes; records success or failure for the context.
   */
  private async write<T>(operation: string, fn: (budget: Budget) => Promise<T>): Promise<T> {
    const budget: Budget = { deadline: Date.now() + this.kit.options.operationTimeout };
    try {
      const value = await fn(budget);
      this.kit.noteSuccess(FEATURE);
      return value;
    } catch (error) {
      const coded = toRedisKitError(error, `session ${operation}`);
      if (this.isRedisFailure(coded)) this.kit.noteFailure(FEATURE, operation, 'closed', coded);
      throw coded;
    }
  }

  private async admin<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const coded = toRedisKitError(error, `session ${operation}`);
      if (this.isRedisFailure(coded)) this.kit.noteFailure(FEATURE, operation, 'closed', coded);
      throw coded;
    }
  }

  private isRedisFailure(error: RedisKitError): boolean {
    return ['ERR_REDISKIT_UNAVAILABLE', 'ERR_REDISKIT_TIMEOUT', 'ERR_REDISKIT_COMMAND', 'ERR_REDISKIT_SCRIPT'].includes(error.code);
  }

  /** Time left of the operation's budget; throws (without sending) once it is spent. */
  private left(budget: Budget): number {
    const left = budget.deadline - Date.now();
    if (left <= 0) {
      throw new RedisKitError(
        'ERR_REDISKIT_TIMEOUT',
        `session operation did not finish within ${this.kit.options.operationTimeout} ms`,
      );
    }
    return left;
  }

  /**
   * Whether the expiry this read saw is recent enough to skip a touch. Never
   * skips for more than half the lifetime: a cookie maxAge shorter than
   * touchAfter must not let an active session expire between touches. 'auto'
   * keeps the stored expiry within a tenth of the lifetime (at most a minute)
   * of where an always-writing touch would put it.
   */
  private isFresh(memo: Recent, ttl: number, cookie: unknown): boolean {
    if (memo.expires === undefined) return false;
    const newExpires = cookieExpiresMs(cookie) ?? Date.now() + ttl;
    const { touchAfter } = this.options;
    const skipWithin = touchAfter === 'auto' ? Math.min(ttl / 10, AUTO_TOUCH_AFTER_MAX) : Math.min(touchAfter, ttl / 2);
    return skipWithin > 0 && newExpires - memo.expires < skipWithin;
  }

  private slack(ttl: number): number {
    return Math.min(Math.max(ttl, 1000), DAY);
  }

  private ttlFor(session: SessionRecord, options: WriteOptions): number {
    const explicit = options.ttl;
    if (explicit !== undefined) {
      if (typeof explicit !== 'number' || Number.isNaN(explicit)) {
        throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `session ttl must be a number of ms; got ${String(explicit)}`);
      }
      return Math.floor(explicit);
    }
    const expires = options.whole ? undefined : cookieExpiresMs(session['cookie']);
    if (expires !== undefined) return expires - Date.now();
    const ttl = typeof this.options.ttl === 'function' ? this.options.ttl(session) : this.options.ttl;
    if (typeof ttl !== 'number' || !Number.isFinite(ttl)) {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `the ttl function must return a finite number of ms; got ${String(ttl)}`, {
        details: { option: 'ttl' },
      });
    }
    return Math.floor(ttl);
  }

  private ownerOf(session: SessionRecord): string {
    if (this.options.userId === false) return '';
    const value = this.options.userId(session);
    if (value === undefined || value === null) return '';
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', 'the userId function must return a string, a number, null or undefined', {
        details: { option: 'userId' },
      });
    }
    return String(value);
  }

  private checkOwner(userId: string | number): string {
    if (this.options.userId === false) {
      throw new RedisKitError('ERR_REDISKIT_SESSION_INDEX_DISABLED');
    }
    if ((typeof userId !== 'string' && typeof userId !== 'number') || String(userId) === '') {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', 'a user id must be a non-empty string or a number');
    }
    return String(userId);
  }

  private checkId(id: string): string {
    if (typeof id !== 'string' || id.length === 0) {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', 'a session id must be a non-empty string');
    }
    return id;
  }

  private sessionKey(id: string): string {
    // Ids that escaping leaves as they are (express-session's base64url ids)
    // skip the per-character escape: same key, no work on every read.
    if (id.length <= this.kit.keys.maxPartLength && PLAIN_ID.test(id) && !(this.separatorInIds && id.includes(this.kit.keys.separator))) {
      return `${this.sessionKeyHead}${id}}`;
    }
    return this.kit.keys.entity(this.options.namespace, id).key();
  }

  private tombstoneKey(id: string): string {
    return this.tombstoneOfKey(this.sessionKey(id));
  }

  private tombstoneOfKey(sessionKey: string): string {
    return `${sessionKey}${this.kit.keys.separator}${this.tombstoneSuffix}`;
  }

  private indexKey(owner: string): string {
    return this.kit.keys.entity(`${this.options.namespace}.u`, owner).key();
  }

  /** The raw id, stored only when the key holds a hash of it (ids() needs it back). */
  private rawIdArg(id: string): string {
    return this.kit.keys.part(id).startsWith('#') ? id : '';
  }

  private encode(id: string, field: 'd' | 'c', value: unknown): ScriptArg {
    let text: unknown;
    try {
      text = this.options.serializer.stringify(value);
    } catch (error) {
      throw new RedisKitError('ERR_REDISKIT_SERIALIZE', `the session could not be serialized: ${String(error)}`, { cause: error });
    }
    if (typeof text !== 'string' || text.length === 0) {
      throw new RedisKitError('ERR_REDISKIT_SERIALIZE', 'the serializer must return a non-empty string');
    }
    if (!this.options.cipher) return text;
    return this.options.cipher.seal(Buffer.from(text, 'utf8'), `${field}\0${id}`);
  }

  private decodeField(id: string, field: 'd' | 'c', raw: Buffer): { ok: true; value: Record<string, unknown> } | { ok: false; reason: 'tampered' | 'unknown-key' | 'plaintext' | 'unreadable' } {
    let text: string;
    const cipher = this.options.cipher;
    if (cipher) {
      const opened = cipher.open(raw, `${field}\0${id}`);
      if (opened.ok) text = opened.plain.toString('utf8');
      else if (opened.reason === 'plaintext' && this.options.acceptPlaintext) text = raw.toString('utf8');
      else return { ok: false, reason: opened.reason };
    } else {
      text = raw.toString('utf8');
    }
    let value: unknown;
    try {
      value = this.options.serializer.parse(text);
    } catch {
      return { ok: false, reason: 'unreadable' };
    }
    if (!isPlainRecord(value)) return { ok: false, reason: 'unreadable' };
    // JSON text without these words and without \u escapes cannot hold a
    // __proto__, constructor or prototype key: nothing to strip.
    const plainJson = this.options.serializer === jsonSerializer && !text.includes('proto') && !text.includes('constructor') && !text.includes('\\u');
    return { ok: true, value: plainJson ? value : stripPrototypeKeys(value) };
  }

  private parse(id: string, raw: Buffer | null): StoredValue | undefined {
    if (!raw) return undefined;
    const stored = parseStoredValue(raw);
    if (!stored) this.kit.events.emit('session:rejected', { handle: this.handleOf(id), reason: 'unreadable' });
    return stored;
  }

  private decode(id: string, stored: StoredValue): SessionRecord | null {
    const data = this.decodeField(id, 'd', stored.data);
    if (!data.ok) {
      this.kit.events.emit('session:rejected', { handle: this.handleOf(id), reason: data.reason });
      return null;
    }
    const session = data.value;
    if (stored.cookie) {
      const cookie = this.decodeField(id, 'c', stored.cookie);
      if (!cookie.ok) {
        this.kit.events.emit('session:rejected', { handle: this.handleOf(id), reason: cookie.reason });
        return null;
      }
      const value = cookie.value;
      if (typeof value['expires'] === 'string' || typeof value['expires'] === 'number') {
        const date = new Date(value['expires'] as string | number);
        value['expires'] = Number.isNaN(date.getTime()) ? null : date;
      }
      session['cookie'] = value;
    }
    return session;
  }
}

/**
 * Creates the session engine shared by the framework stores.
 *
 * @example
 * const engine = createSessionEngine(kit, { userId: (s) => s.user?.id });
 * app.use(session({ store: new RedisSessionStore(engine), secret, resave: false, saveUninitialized: false }));
 */
export function createSessionEngine(kit: RedisKit, options?: SessionOptions): SessionEngine {
  return new SessionEngine(kit, options);
}
