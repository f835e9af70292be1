import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The URL part of a key: the path as received and the query with its
 * parameters sorted by name (a stable sort, so repeated names keep their
 * order). `?a=1&b=2` and `?b=2&a=1` share an entry; nothing is decoded, so
 * two URLs that differ in encoding never collide.
 */
export function normalizeUrl(url: string): string {
  const hash = url.indexOf('#');
  const bare = hash === -1 ? url : url.slice(0, hash);
  const q = bare.indexOf('?');
  if (q === -1) return bare;
  const path = bare.slice(0, q);
  const params = bare
    .slice(q + 1)
    .split('&')
    .filter((p) => p.length > 0);
  if (params.length === 0) return path;
  const named = params.map((p, i) => ({ p, i, name: p.split('=', 1)[0]! }));
  named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i));
  return `${path}?${named.map((n) => n.p).join('&')}`;
}

/** base64url SHA-256 of `text`, cut to `length` characters. */
export function digest(text: string, length = 24): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, length);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/**
 * A request header's value as it counts for Vary: lists are trimmed, and
 * where order and case carry no meaning (Accept-Encoding) sorted and
 * lower-cased, so equivalent requests share a variant.
 */
export function varyValue(headers: IncomingHttpHeaders, name: string): string | null {
  const raw = headerValue(headers, name);
  if (raw === undefined) return null;
  switch (name) {
    case 'accept-encoding':
      return raw
        .split(',')
        .map((m) => m.replace(/\s+/g, '').toLowerCase())
        .filter(Boolean)
        .sort()
        .join(',');
    case 'accept':
    case 'accept-language':
    case 'accept-charset':
      return raw
        .split(',')
        .map((m) => m.replace(/\s+/g, '').toLowerCase())
        .filter(Boolean)
        .join(',');
    default:
      return raw.trim().replace(/\s+/g, ' ');
  }
}

/** Names from `Vary` header values: lower-case, unique, sorted; `['*']` when any is `*`. */
export function parseVary(values: readonly string[]): string[] {
  const names = new Set<string>();
  for (const v of values) {
    for (const n of v.split(',')) {
      const name = n.trim().toLowerCase();
      if (name === '*') return ['*'];
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}

/** The variant of a request under a vary list: `-` when the list is empty. */
export function variantId(varyNames: readonly string[], headers: IncomingHttpHeaders): string {
  if (varyNames.length === 0) return '-';
  return digest(JSON.stringify(varyNames.map((n) => [n, varyValue(headers, n)])), 22);
}
