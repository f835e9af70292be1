import type { IncomingHttpHeaders } from 'node:http';

function opaque(tag: string): string {
  const t = tag.trim();
  return t.startsWith('W/') ? t.slice(2) : t;
}

/**
 * Whether a stored 200 answers the request's `If-None-Match` (weak
 * comparison over a list, or `*`) or, without it, `If-Modified-Since`, with
 * 304 (RFC 9110 13.1.2 and 13.1.3).
 */
export function notModified(
  request: IncomingHttpHeaders,
  stored: { etag?: string | undefined; lastModified?: string | undefined },
): boolean {
  const inm = request['if-none-match'];
  if (inm !== undefined) {
    const list = String(inm).trim();
    if (list === '*') return true;
    if (!stored.etag) return false;
    const mine = opaque(stored.etag);
    // Entity tags are quoted and may hold commas, so split on the quotes.
    const tags = list.match(/(?:W\/)?"[^"]*"/g) ?? [];
    return tags.some((t) => opaque(t) === mine);
  }
  const ims = request['if-modified-since'];
  if (ims !== undefined && stored.lastModified) {
    const since = Date.parse(String(ims));
    const modified = Date.parse(stored.lastModified);
    if (Number.isFinite(since) && Number.isFinite(modified)) return modified <= since;
  }
  return false;
}

/** Headers a 304 carries when the 200 would have them (RFC 9110 15.4.5). */
export const NOT_MODIFIED_HEADERS = new Set(['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified']);
