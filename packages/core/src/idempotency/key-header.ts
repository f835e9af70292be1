import { parseItem } from 'structured-headers';

/** Limits a key must meet; see {@link parseIdempotencyKey}. */
export interface KeyRules {
  /** Header name, lower case. */
  header: string;
  minLength: number;
  maxLength: number;
  /** Characters a key may use (tested on the whole decoded key). */
  pattern: RegExp;
}

/** The outcome of reading the key header of one request. */
export type ParsedKey =
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'key'; key: string; form: 'sf-string' | 'token' };

/**
 * Reads the `Idempotency-Key` header from a request's raw header lines.
 *
 * Two forms are accepted: the draft's Structured Field String
 * (`Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`, parsed with
 * `structured-headers`; parameters, which RFC 8941 lets a recipient ignore,
 * are ignored) and a bare value as many clients send it
 * (`Idempotency-Key: 8e03978e-...`). Either way the decoded key must be
 * `minLength`..`maxLength` characters of `pattern`. More than one header line
 * is invalid (the draft forbids it), and so is an empty one.
 *
 * Nothing is looked up for an invalid key: validation happens before Redis.
 *
 * @example
 * parseIdempotencyKey(req.rawHeaders, rules); // { kind: 'key', key: '8e03...', form: 'sf-string' }
 */
export function parseIdempotencyKey(rawHeaders: readonly string[], rules: KeyRules): ParsedKey {
  const lines: string[] = [];
  const length = rules.header.length;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === length && (name === rules.header || name.toLowerCase() === rules.header)) lines.push(rawHeaders[i + 1]!);
  }
  if (lines.length === 0) return { kind: 'missing' };
  if (lines.length > 1) return { kind: 'invalid', reason: `send one ${rules.header} header, not ${lines.length}` };
  const value = lines[0]!.trim();
  if (value.length === 0) return { kind: 'invalid', reason: 'the key is empty' };
  // Longest acceptable field: the key, its quotes and an escape for every character.
  if (value.length > rules.maxLength * 2 + 2 + 256) return { kind: 'invalid', reason: `the key is longer than ${rules.maxLength} characters` };

  let key: string;
  let form: 'sf-string' | 'token';
  if (value.startsWith('"')) {
    let item: unknown;
    try {
      item = parseItem(value);
    } catch (error) {
      return { kind: 'invalid', reason: `not a valid sf-string: ${(error as Error).message}` };
    }
    const bare = (item as [unknown, unknown])[0];
    if (typeof bare !== 'string') return { kind: 'invalid', reason: 'the key must be an sf-string' };
    key = bare;
    form = 'sf-string';
  } else {
    key = value;
    form = 'token';
  }
  if (key.length < rules.minLength) {
    return { kind: 'invalid', reason: `the key is shorter than ${rules.minLength} characters` };
  }
  if (key.length > rules.maxLength) {
    return { kind: 'invalid', reason: `the key is longer than ${rules.maxLength} characters` };
  }
  if (!rules.pattern.test(key)) {
    return { kind: 'invalid', reason: `the key has characters outside ${String(rules.pattern)}` };
  }
  return { kind: 'key', key, form };
}
