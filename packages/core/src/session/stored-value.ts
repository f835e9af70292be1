/**
 * One stored session, as the save script writes it (see session-save.lua):
 * `R1:<created>:<expires-at>:<deadline|0>:<bound|0>:<#owner>:<#cookie>:<#raw id>:`
 * then owner, cookie, raw id and data bytes. One string per session takes
 * about half the memory of a hash whose values pass 64 bytes.
 */
export interface StoredValue {
  /** Creation time, ms (Redis clock). */
  createdAt: number;
  /** Expiry, ms (Redis clock). */
  expiresAt: number;
  /** Absolute deadline, ms, or 0. */
  deadline: number;
  /** Bound of the owner's index entry, ms, or 0. */
  bound: number;
  /** Owner (user id), '' for none. */
  owner: string;
  /** Serialized (maybe sealed) cookie, or null. */
  cookie: Buffer | null;
  /** The raw id, only when the key holds a hash of it. */
  rawId: string | undefined;
  /** Serialized (maybe sealed) data. */
  data: Buffer;
}

const COLON = 0x3a;

/** Parses a stored value; undefined when it is not in this format. */
export function parseStoredValue(value: Buffer): StoredValue | undefined {
  if (value.length < 3 || value[0] !== 0x52 /* R */ || value[1] !== 0x31 /* 1 */ || value[2] !== COLON) return undefined;
  const numbers: number[] = [];
  let pos = 3;
  for (let n = 0; n < 7; n++) {
    // Digits are read in place (this runs on every session read); anything
    // else takes the general path, with the same result as before.
    let parsed = 0;
    let stop = pos;
    while (stop < value.length && value[stop]! >= 0x30 && value[stop]! <= 0x39) parsed = parsed * 10 + value[stop++]! - 0x30;
    if (value[stop] !== COLON || stop - pos > 15) {
      stop = value.indexOf(COLON, pos);
      if (stop === -1) return undefined;
      parsed = Number(value.toString('latin1', pos, stop));
      if (!Number.isFinite(parsed)) return undefined;
    }
    numbers.push(parsed);
    pos = stop + 1;
  }
  const [createdAt, expiresAt, deadline, bound, ownerLen, cookieLen, rawLen] = numbers as [
    number, number, number, number, number, number, number,
  ];
  if (pos + ownerLen + cookieLen + rawLen > value.length) return undefined;
  const owner = value.toString('utf8', pos, pos + ownerLen);
  pos += ownerLen;
  const cookie = cookieLen > 0 ? value.subarray(pos, pos + cookieLen) : null;
  pos += cookieLen;
  const rawId = rawLen > 0 ? value.toString('utf8', pos, pos + rawLen) : undefined;
  pos += rawLen;
  return { createdAt, expiresAt, deadline, bound, owner, cookie, rawId, data: value.subarray(pos) };
}
