import { createHash, hash } from 'node:crypto';

/** What the fingerprint saw of the body. `unparsed`: the request has a body no parser exposed. */
export type BodyForm = 'json' | 'raw' | 'empty' | 'unparsed';

/** The request parts a fingerprint covers. */
export interface FingerprintInput {
  method: string;
  path: string;
  /** Raw query string without `?`; parameters are sorted, so their order does not matter. */
  query?: string;
  /** The parsed body: an object or array (JSON, form), a string (text) or a Buffer (raw). */
  body?: unknown;
  /** The bytes as received, when a body parser keeps them. */
  rawBody?: Buffer | string;
  /** True when the request carries a body (Content-Length > 0 or Transfer-Encoding). */
  hasBody: boolean;
}

/** Which JSON fields count: only `include`d ones, or all but `exclude`d ones (dotted paths). */
export interface FieldSelection {
  include?: readonly string[];
  exclude?: readonly string[];
}

/**
 * JSON with object keys sorted (by UTF-16 code units, as RFC 8785 does) and
 * no insignificant whitespace, so `{"b":1,"a":2}` and `{ "a": 2, "b": 1 }`
 * have one canonical form. Values serialize as `JSON.stringify` does
 * (`undefined` members are dropped, `toJSON` is honoured).
 *
 * @example
 * canonicalJson({ b: [2, { d: 1, c: 0 }], a: 'x' }); // '{"a":"x","b":[2,{"c":0,"d":1}]}'
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(): unknown }).toJSON();
  }
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + (write(value[i]) ?? 'null');
    return `${out}]`;
  }
  let out = '{';
  for (const name of Object.keys(value).sort()) {
    const member = write((value as Record<string, unknown>)[name]);
    if (member === undefined) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(name) + ':' + member;
  }
  return `${out}}`;
}

function splitPath(path: string): string[] {
  return path.split('.');
}

function pick(value: unknown, paths: string[][]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  const byHead = new Map<string, string[][]>();
  for (const p of paths) {
    const [head, ...rest] = p;
    byHead.set(head!, [...(byHead.get(head!) ?? []), rest]);
  }
  for (const [head, rests] of byHead) {
    if (!Object.prototype.hasOwnProperty.call(value, head)) continue;
    const member = (value as Record<string, unknown>)[head];
    out[head] = rests.some((r) => r.length === 0) ? member : pick(member, rests);
  }
  return out;
}

function omit(value: unknown, paths: string[][]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const byHead = new Map<string, string[][]>();
  for (const p of paths) {
    const [head, ...rest] = p;
    byHead.set(head!, [...(byHead.get(head!) ?? []), rest]);
  }
  for (const [head, rests] of byHead) {
    if (!(head in out)) continue;
    if (rests.some((r) => r.length === 0)) delete out[head];
    else out[head] = omit(out[head], rests);
  }
  return out;
}

/** The JSON value after field selection (`include` wins when both are given; options forbid that). */
export function selectFields(value: unknown, selection: FieldSelection): unknown {
  if (selection.include) return pick(value, selection.include.map(splitPath));
  if (selection.exclude) return omit(value, selection.exclude.map(splitPath));
  return value;
}

/**
 * The canonical body a fingerprint covers and how it was seen: a parsed
 * object or array becomes canonical JSON (after field selection), a string
 * or Buffer body is taken byte for byte, raw bytes kept by the body parser
 * otherwise, and a body nothing parsed is `unparsed`.
 */
export function canonicalBody(input: FingerprintInput, selection: FieldSelection = {}): { form: BodyForm; bytes: Buffer } {
  const { form, text } = bodyText(input, selection);
  return { form, bytes: typeof text === 'string' ? Buffer.from(text, 'utf8') : text };
}

const EMPTY = Buffer.alloc(0);

// canonicalBody without copying text into a Buffer: the hash takes strings.
function bodyText(input: FingerprintInput, selection: FieldSelection): { form: BodyForm; text: string | Buffer } {
  const { body, rawBody } = input;
  if (Buffer.isBuffer(body)) return { form: 'raw', text: body };
  if (typeof body === 'string') return { form: 'raw', text: body };
  if (body !== undefined && body !== null && (typeof body === 'object' || typeof body === 'number' || typeof body === 'boolean')) {
    return { form: 'json', text: canonicalJson(selectFields(body, selection)) };
  }
  if (body === null && rawBody !== undefined) return { form: 'json', text: 'null' };
  if (rawBody !== undefined && (rawBody.length > 0 || !input.hasBody)) return { form: 'raw', text: rawBody };
  if (input.hasBody) return { form: 'unparsed', text: EMPTY };
  return { form: 'empty', text: EMPTY };
}

function sortedQuery(query: string | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams(query);
  params.sort();
  return params.toString();
}

/**
 * SHA-256 (base64url) over method, path, sorted query and the canonical body.
 * Two requests with one fingerprint are "the same request" for replay.
 *
 * @example
 * fingerprint({ method: 'POST', path: '/orders', body: { sku: 'a', qty: 1 }, hasBody: true }).value;
 */
export function fingerprint(input: FingerprintInput, selection: FieldSelection = {}): { value: string; form: BodyForm } {
  const { form, text } = bodyText(input, selection);
  const head = `${input.method.toUpperCase()}\n${input.path}\n${sortedQuery(input.query)}\n${form}\n`;
  // One-shot hash of one string for the usual (JSON) body: no Hash object.
  if (typeof text === 'string') return { value: hash('sha256', head + text, 'base64url'), form };
  return { value: createHash('sha256').update(head).update(text).digest('base64url'), form };
}
