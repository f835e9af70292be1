/**
 * The bytes of a stored entry, as `cache-layout.inc.lua` describes them
 * (format 1). The store script writes the header (times, URL generation, tag
 * bindings) in front of what {@link encodeMeta} gives it and the body; a hit
 * comes back as that one value and {@link decodeEntry} reads it without
 * copying the body.
 *
 *   'E' format t0 fr sw se up us d   1 + 1 + 6 x 6 + 4 bytes
 *   g    1-byte length + generation
 *   nb   1 byte, then per binding: 2-byte length + record key suffix, 1-byte length + version
 *   meta 4-byte length, then: status (2), flags (1), header count (2), per header
 *        a name (1-byte code of a common name, or 0 and the name) and a value
 *   body the rest
 *
 * Lengths of names and values are one byte below 255, else 255 and four bytes.
 */

/** What the store keeps beside the body. */
export interface EntryMeta {
  /** `http` response, or a `json` / `buffer` value of the cache-aside API. */
  k: 'http' | 'json' | 'buffer';
  /** HTTP status. */
  s?: number;
  /** HTTP headers, in order. */
  h?: Array<[string, string]>;
  /** 1 when requests with Authorization may use it. */
  a?: 1;
  /** Header names it varies on (not stored: a lookup only finds an entry under the list it was stored with). */
  v: readonly string[];
}

/** An entry as read back. Times are Redis server time in ms. */
export interface StoredEntry {
  meta: EntryMeta;
  body: Buffer;
  bornAt: number;
  freshUntil: number;
}

/** Response header names stored as one byte (index + 1). Append only: stored entries refer to the positions. */
const COMMON = [
  'content-type',
  'content-length',
  'cache-control',
  'date',
  'etag',
  'last-modified',
  'expires',
  'vary',
  'content-encoding',
  'content-language',
  'content-location',
  'location',
  'link',
  'x-powered-by',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-expose-headers',
  'content-disposition',
  'content-security-policy',
  'x-content-type-options',
  'x-frame-options',
  'strict-transport-security',
  'referrer-policy',
  'accept-ranges',
  'surrogate-control',
  'server',
] as const;
const CODE = new Map<string, number>(COMMON.map((n, i) => [n, i + 1]));

const KINDS = ['http', 'json', 'buffer'] as const;
const ENTRY = 0x45; // 'E'
const FORMAT = 1;
const FIXED = 42;

function lengthSize(n: number): number {
  return n < 255 ? 1 : 5;
}

function writeLength(buf: Buffer, at: number, n: number): number {
  if (n < 255) return buf.writeUInt8(n, at);
  buf.writeUInt8(255, at);
  return buf.writeUInt32BE(n, at + 1);
}

/** The meta as the store script takes it: its 4-byte length, then the meta. */
export function encodeMeta(meta: EntryMeta): Buffer {
  const headers = meta.h ?? [];
  let size = 4 + 2 + 1 + 2;
  for (const [name, value] of headers) {
    if (!CODE.has(name)) size += 1 + lengthSize(name.length) + name.length;
    else size += 1;
    size += lengthSize(value.length) + value.length;
  }
  const buf = Buffer.allocUnsafe(size);
  let at = buf.writeUInt32BE(size - 4, 0);
  at = buf.writeUInt16BE(meta.s ?? 0, at);
  at = buf.writeUInt8((meta.a === 1 ? 1 : 0) | (KINDS.indexOf(meta.k) << 1), at);
  at = buf.writeUInt16BE(headers.length, at);
  for (const [name, value] of headers) {
    const code = CODE.get(name);
    if (code !== undefined) at = buf.writeUInt8(code, at);
    else {
      at = buf.writeUInt8(0, at);
      at = writeLength(buf, at, name.length);
      at += buf.write(name, at, 'latin1');
    }
    at = writeLength(buf, at, value.length);
    // Header values are Latin-1 (Node refuses other characters), so one byte each.
    at += buf.write(value, at, 'latin1');
  }
  return buf;
}

/**
 * Reads a stored value: undefined when it is not a format-1 entry or does
 * not decode. `vary` is the list the lookup found it under.
 */
export function decodeEntry(value: Buffer, vary: readonly string[]): StoredEntry | undefined {
  try {
    if (value.length < FIXED + 2 + 4 || value[0] !== ENTRY || value[1] !== FORMAT) return undefined;
    const bornAt = value.readUIntBE(2, 6);
    const freshUntil = value.readUIntBE(8, 6);
    let at = FIXED;
    at += 1 + value[at]!; // generation
    const bindings = value[at++]!;
    for (let i = 0; i < bindings; i++) {
      at += 2 + value.readUInt16BE(at);
      at += 1 + value[at]!;
    }
    const metaEnd = at + 4 + value.readUInt32BE(at);
    at += 4;
    const s = value.readUInt16BE(at);
    const flags = value[at + 2]!;
    const count = value.readUInt16BE(at + 3);
    at += 5;
    const h: Array<[string, string]> = new Array(count);
    for (let i = 0; i < count; i++) {
      const code = value[at++]!;
      let name: string;
      if (code !== 0) {
        name = COMMON[code - 1]!;
        if (name === undefined) return undefined;
      } else {
        let n = value[at++]!;
        if (n === 255) (n = value.readUInt32BE(at)), (at += 4);
        name = value.toString('latin1', at, (at += n));
      }
      let n = value[at++]!;
      if (n === 255) (n = value.readUInt32BE(at)), (at += 4);
      h[i] = [name, value.toString('latin1', at, (at += n))];
    }
    if (at !== metaEnd || metaEnd > value.length) return undefined;
    const k = KINDS[(flags >> 1) & 3];
    if (k === undefined) return undefined;
    const meta: EntryMeta = { k, v: vary };
    if (k === 'http') {
      meta.s = s;
      meta.h = h;
    }
    if (flags & 1) meta.a = 1;
    return { meta, body: value.subarray(metaEnd), bornAt, freshUntil };
  } catch {
    // An entry that does not decode is treated as missing.
    return undefined;
  }
}
