import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const ID_FIELDS = ['id', 'sub', '_id', 'userId', 'uid'] as const;

/** The stable id of a user object (`id`, `sub`, `_id`, `userId` or `uid`), or of a string/number user. */
export function userIdOf(user: unknown): string | undefined {
  if (typeof user === 'string' && user.length > 0) return user;
  if (typeof user === 'number' && Number.isFinite(user)) return String(user);
  if (user && typeof user === 'object') {
    for (const field of ID_FIELDS) {
      const v = (user as Record<string, unknown>)[field];
      if ((typeof v === 'string' && v.length > 0) || typeof v === 'number') return String(v);
      if (v && typeof v === 'object' && typeof (v as { toString(): string }).toString === 'function') {
        const s = String(v);
        if (s && s !== '[object Object]') return s; // e.g. a Mongo ObjectId
      }
    }
  }
  return undefined;
}

/**
 * The default principal: the authenticated user when the framework has one
 * (`req.user` from Passport or Nest guards, `ctx.state.user` in Koa, a
 * `user` or `userId` in the session), otherwise a SHA-256 of the
 * `Authorization` header (never the credential itself), otherwise `''`
 * (anonymous: one shared scope, separated by the key alone).
 *
 * @example
 * defaultPrincipal({ authorization: 'Bearer abc' }, undefined); // 'authz:Kx3...'
 */
export function defaultPrincipal(headers: IncomingHttpHeaders, user: unknown): string {
  const id = userIdOf(user);
  if (id !== undefined) return `user:${id}`;
  const authz = headers.authorization;
  if (typeof authz === 'string' && authz.length > 0) {
    return `authz:${createHash('sha256').update(authz, 'utf8').digest('base64url')}`;
  }
  return '';
}
