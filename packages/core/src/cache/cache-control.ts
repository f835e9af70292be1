import { parse, type CacheControl } from '@tusbar/cache-control';

const NONE: CacheControl = Object.freeze(parse(''));

/** Parses one or more `Cache-Control` field values (RFC 9111 5.2), joined as one list. Read-only. */
export function parseCacheControl(values: readonly string[] | string | undefined): CacheControl {
  if (values === undefined) return NONE;
  const joined = typeof values === 'string' ? values : (values ?? []).join(', ');
  return parse(joined);
}

export type { CacheControl };
