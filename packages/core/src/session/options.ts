import { RedisKitError } from '../errors';
import { assertKnownOptions, invalidOption, optBoolean, optEnum, optNumber, optString } from '../options';
import type { FailPolicy } from '../redis/fail-policy';
import { SessionCipher, type SessionKey } from './cipher';
import { jsonSerializer, type SessionSerializer } from './serializer';

/** A session as stores see it: express-session's data (with `cookie`) or koa-session's payload. */
export type SessionRecord = Record<string, unknown>;

/** Picks the owner of a session for the per-user index; `undefined`/`null`/`''` means anonymous. */
export type SessionUserId = (session: SessionRecord) => string | number | null | undefined;

/** Encryption at rest. */
export interface SessionEncryptionOptions {
  /**
   * AES-256 keys, newest first: new values are sealed with `keys[0]`, values
   * sealed with any listed key still open. Each is 32 bytes (Buffer, 64 hex
   * characters, or base64).
   */
  keys: SessionKey[];
  /**
   * Read values written before encryption was switched on. Default `false`:
   * an unencrypted value reads as no session. Turn on while migrating, off
   * once every session has been written again (one `ttl` later).
   */
  acceptPlaintext?: boolean;
}

/**
 * Options of the session engine, shared by the express-session store, the
 * koa-session store and the Nest service.
 */
export interface SessionOptions {
  /**
   * Idle lifetime in ms when the session has no `cookie.expires` (a browser
   * session cookie) and the framework passes none: a number, or a function of
   * the session. Default 86 400 000 (one day).
   */
  ttl?: number | ((session: SessionRecord) => number);
  /**
   * Hard limit in ms from creation: the session ends then however active it
   * is. Default none.
   */
  absoluteLifetime?: number;
  /**
   * Owner of a session, for listSessions / countSessions / revokeSessions.
   * Default: `session.userId`, else passport's `session.passport.user`, when a
   * string or number. `false` turns the per-user index off.
   */
  userId?: SessionUserId | false;
  /** Serializer of session data. Default JSON. */
  serializer?: SessionSerializer;
  /** AES-256-GCM at rest. Default off. */
  encryption?: SessionEncryptionOptions | false;
  /**
   * How long, in ms, a destroyed id refuses saves (the logout race guard).
   * Default 600 000 (10 min, twice Node's default `requestTimeout`).
   */
  tombstoneTtl?: number;
  /**
   * Skip a touch when the stored expiry is less than this many ms older than
   * the new one (the read in the same process saw it), and never for more
   * than half the session's lifetime. Default `'auto'`: a tenth of the
   * session's lifetime, at most a minute, so an active session costs one
   * Redis round trip per request and one touch a minute. `0`: every touch writes.
   */
  touchAfter?: number | 'auto';
  /**
   * A read that was sent but failed (timeout, error): `closed` (default)
   * passes the error to the framework, `open` serves the request without a
   * session. While Redis is unreachable, reads are not sent and requests are
   * always served without a session.
   */
  failPolicy?: FailPolicy;
  /** Key namespace inside the context's prefix: letters, digits, `_`, `-`. Default `'sess'`. */
  namespace?: string;
  /** SCAN COUNT hint for all/ids/length/clear. Default 500. */
  scanCount?: number;
}

export interface ResolvedSessionOptions {
  readonly ttl: number | ((session: SessionRecord) => number);
  readonly absoluteLifetime: number;
  readonly userId: SessionUserId | false;
  readonly serializer: SessionSerializer;
  readonly cipher: SessionCipher | undefined;
  readonly acceptPlaintext: boolean;
  readonly tombstoneTtl: number;
  readonly touchAfter: number | 'auto';
  readonly failPolicy: FailPolicy;
  readonly namespace: string;
  readonly scanCount: number;
}

export const SESSION_OPTION_NAMES = [
  'ttl',
  'absoluteLifetime',
  'userId',
  'serializer',
  'encryption',
  'tombstoneTtl',
  'touchAfter',
  'failPolicy',
  'namespace',
  'scanCount',
] as const;

const DAY = 86_400_000;

/**
 * `session.userId`, else passport's `session.passport.user`, when it is a string or number.
 *
 * @example
 * defaultSessionUserId({ passport: { user: 42 } }); // 42
 */
export const defaultSessionUserId: SessionUserId = (session) => {
  const direct = session['userId'];
  if (typeof direct === 'string' || typeof direct === 'number') return direct;
  const passport = session['passport'];
  if (passport && typeof passport === 'object') {
    const user = (passport as Record<string, unknown>)['user'];
    if (typeof user === 'string' || typeof user === 'number') return user;
  }
  return undefined;
};

/**
 * Validates session options and applies defaults; throws a coded RedisKitError.
 *
 * @example
 * const resolved = resolveSessionOptions('RedisSessionStore', { ttl: 3_600_000 }); // frozen, defaults filled in
 */
export function resolveSessionOptions(where: string, options: SessionOptions = {}, extra: readonly string[] = []): ResolvedSessionOptions {
  assertKnownOptions(where, options, [...SESSION_OPTION_NAMES, ...extra]);
  let ttl: ResolvedSessionOptions['ttl'];
  if (typeof options.ttl === 'function') ttl = options.ttl;
  else ttl = optNumber(where, 'ttl', options.ttl, DAY, { integer: true, min: 1 });

  let userId: SessionUserId | false;
  if (options.userId === undefined) userId = defaultSessionUserId;
  else if (options.userId === false) userId = false;
  else if (typeof options.userId === 'function') userId = options.userId;
  else invalidOption(where, 'userId', 'a function of the session or false', options.userId);

  const serializer = options.serializer ?? jsonSerializer;
  if (!serializer || typeof serializer.stringify !== 'function' || typeof serializer.parse !== 'function') {
    invalidOption(where, 'serializer', 'an object with stringify() and parse()', serializer);
  }

  let cipher: SessionCipher | undefined;
  let acceptPlaintext = false;
  if (options.encryption !== undefined && options.encryption !== false) {
    const enc = options.encryption;
    if (!enc || typeof enc !== 'object') invalidOption(where, 'encryption', 'an object { keys } or false', enc);
    assertKnownOptions(`${where}.encryption`, enc, ['keys', 'acceptPlaintext']);
    cipher = new SessionCipher(where, enc.keys);
    acceptPlaintext = optBoolean(`${where}.encryption`, 'acceptPlaintext', enc.acceptPlaintext, false);
  }

  const resolved: ResolvedSessionOptions = {
    ttl,
    absoluteLifetime: optNumber(where, 'absoluteLifetime', options.absoluteLifetime, 0, { integer: true, min: 1 }),
    userId,
    serializer,
    cipher,
    acceptPlaintext,
    tombstoneTtl: optNumber(where, 'tombstoneTtl', options.tombstoneTtl, 600_000, { integer: true, min: 1 }),
    touchAfter: options.touchAfter === 'auto' || options.touchAfter === undefined ? 'auto' : optNumber(where, 'touchAfter', options.touchAfter, 0, { integer: true, min: 0 }),
    failPolicy: optEnum(where, 'failPolicy', options.failPolicy, ['open', 'closed'] as const, 'closed'),
    namespace: optString(where, 'namespace', options.namespace, 'sess', {
      pattern: /^[A-Za-z0-9_-]{1,32}$/,
      describe: '1 to 32 letters, digits, _ or -',
    }),
    scanCount: optNumber(where, 'scanCount', options.scanCount, 500, { integer: true, min: 1, max: 100_000 }),
  };
  if (typeof resolved.ttl === 'number' && typeof resolved.touchAfter === 'number' && resolved.touchAfter >= resolved.ttl) {
    throw new RedisKitError(
      'ERR_REDISKIT_INVALID_OPTION',
      `${where}.touchAfter (${resolved.touchAfter}) must be shorter than ttl (${resolved.ttl}), or sessions would expire between touches`,
      { details: { option: `${where}.touchAfter` } },
    );
  }
  return Object.freeze(resolved);
}
