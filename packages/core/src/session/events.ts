/**
 * Events of the session engine, emitted on the context's `events`. Names are
 * `'session:<event>'`. Payloads never carry a session id (it is a bearer
 * secret): `handle` is a short one-way hash of it, the same one
 * `listSessions()` returns, so logs can correlate without leaking ids.
 */
export interface SessionEvents {
  /** A session was written for the first time. */
  'session:created': { handle: string; userId?: string };
  /**
   * A session was deleted: `destroy` (logout, regenerate), `revoke`
   * (revokeSessions / revokeSession), `expired` (saved with a ttl of zero or
   * less, or past its absolute lifetime).
   */
  'session:destroyed': { handle: string; userId?: string; reason: 'destroy' | 'revoke' | 'expired' };
  /** "Log out everywhere" finished for one user. */
  'session:revoked': { userId: string; revoked: number; kept: number };
  /**
   * A save arrived for an id destroyed moments before (a slow request that
   * loaded the session before a logout) and was refused.
   */
  'session:save-refused': { handle: string };
  /**
   * A stored value could not be read back and was treated as no session:
   * `tampered` (authentication failed), `unknown-key` (sealed with a key no
   * longer listed), `plaintext` (unencrypted while encryption is on),
   * `unreadable` (the serializer failed or the data is not an object).
   */
  'session:rejected': { handle: string; reason: 'tampered' | 'unknown-key' | 'plaintext' | 'unreadable' };
  /** `clear()` removed every session of the namespace. */
  'session:cleared': { sessions: number };
}
