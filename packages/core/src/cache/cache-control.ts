import { parse, type CacheControl } from '@tusbar/cache-control';

/** Parses one or more `Cache-Control` field values (RFC 9111 5.2), joined as one list. */
export function parseCacheControl(values: readonly string[] | string | undefined): CacheControl {
  const joined = typeof values === 'string' ? values : (values ?? []).join(', ');
  return parse(joined);
}

export type { CacheControl };
