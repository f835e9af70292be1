/**
 * The record of one idempotency key: a single Redis string, so that one
 * `SET key <in-progress record> NX PX <lease> GET` claims a free key or
 * returns the record it has, and a replay is that one command.
 *
 * In progress: `R` fingerprint owner
 *   written by the claim; the scripts that renew, complete or release it
 *   compare the whole value, so "in progress, and mine" is one comparison.
 * Done:        `D` fingerprint stored status `\n`-terminated header lines, `\n`, body
 *   `stored` is `1` (the response is replayed) or `0` (only its outcome was
 *   kept: too large or broken off); status is three digits; each header line
 *   is `name:value` (Node refuses CR and LF in header values and `:` in names,
 *   so neither can break a line); the body bytes follow unchanged.
 *
 * The fingerprint is SHA-256 in base64url, always 43 characters.
 */
export const FINGERPRINT_LENGTH = 43;

const IN_PROGRESS = 0x52; // 'R'
const DONE = 0x44; // 'D'
const LF = 0x0a;
const HEAD = 1 + FINGERPRINT_LENGTH + 1 + 3; // D, fingerprint, stored flag, status

/** What a record says, seen by a request with fingerprint `fp`. */
export type RecordView =
  | { kind: 'mismatch' }
  | { kind: 'running' }
  | { kind: 'done'; status: number; headers: Array<[string, string]>; body: Buffer; stored: boolean };

/** The in-progress record a request writes when it claims a key. */
export function inProgressRecord(fingerprint: string, owner: string): string {
  return `R${fingerprint}${owner}`;
}

/** Everything of a done record before its body (the complete script appends the body). */
export function doneRecordHead(fingerprint: string, status: number, headers: ReadonlyArray<[string, string]>, stored: boolean): string {
  let head = `D${fingerprint}${stored ? '1' : '0'}${String(status).padStart(3, '0')}`;
  for (const [name, value] of headers) head += `${name}:${value}\n`;
  return `${head}\n`;
}

/**
 * Reads a record returned by the claim. Returns undefined for bytes that are
 * not a record of this format (the caller treats that as a store error).
 */
export function readRecord(record: Buffer, fingerprint: string): RecordView | undefined {
  const kind = record[0];
  if ((kind !== IN_PROGRESS && kind !== DONE) || record.length < 1 + FINGERPRINT_LENGTH) return undefined;
  // The fingerprint first: a different request with this key is a mismatch
  // whether the first one is in flight or done.
  if (record.toString('latin1', 1, 1 + FINGERPRINT_LENGTH) !== fingerprint) return { kind: 'mismatch' };
  if (kind === IN_PROGRESS) return { kind: 'running' };
  if (record.length < HEAD + 1) return undefined;
  const stored = record[1 + FINGERPRINT_LENGTH] === 0x31;
  const status = Number(record.toString('latin1', HEAD - 3, HEAD));
  const headers: Array<[string, string]> = [];
  let at = HEAD;
  for (;;) {
    const end = record.indexOf(LF, at);
    if (end === -1 || Number.isNaN(status)) return undefined;
    if (end === at) {
      at = end + 1;
      break;
    }
    const line = record.toString('utf8', at, end);
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    headers.push([line.slice(0, colon), line.slice(colon + 1)]);
    at = end + 1;
  }
  return { kind: 'done', status, headers, body: record.subarray(at), stored };
}
