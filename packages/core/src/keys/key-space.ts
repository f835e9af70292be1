import { createHash } from 'node:crypto';
import { RedisKitError } from '../errors';

/** Characters with a meaning in a rediskit key; escaped wherever they occur in a part. */
const RESERVED = new Set(['%', '{', '}', '#', '*', '?', '[', ']', '\\']);

export interface KeySpaceOptions {
  /** Namespace of this app in Redis; every key starts with it. */
  prefix: string;
  /** Joins segments. */
  separator: string;
  /** Longest part, in UTF-8 bytes after escaping; longer parts are hashed. */
  maxPartLength: number;
}

/**
 * Builds every key rediskit writes.
 *
 * A key is `prefix` + `separator` + parts joined by `separator`. Each part is
 * escaped so that it can never contain the separator, `{`, `}`, `#` or a glob
 * character: `%` and those characters become `%XX`. Escaping is injective, so
 * two different part lists never give the same key, and a user-supplied part
 * can never open or close a hash tag. A part whose escaped form is longer than
 * `maxPartLength` bytes is replaced by `#` + base64url(SHA-256(part)); escaped
 * parts never start with `#`, so hashed and plain parts cannot collide.
 *
 * @example
 * const keys = new KeySpace({ prefix: 'shop', separator: ':', maxPartLength: 128 });
 * keys.key('ratelimit', 'login', userInput); // 'shop:ratelimit:login:<escaped input>'
 * const user = keys.entity('session', userId);
 * user.key('data'); user.key('index'); // same hash tag, same Cluster slot
 */
export class KeySpace {
  readonly prefix: string;
  readonly separator: string;
  readonly maxPartLength: number;
  private readonly escapeSet: Set<string>;
  /** Matches any character `part()` escapes. */
  private readonly needsEscape: RegExp;

  constructor(options: KeySpaceOptions) {
    const { prefix, separator, maxPartLength } = options;
    if (typeof separator !== 'string' || separator.length !== 1 || RESERVED.has(separator)) {
      throw new RedisKitError(
        'ERR_REDISKIT_INVALID_OPTION',
        `separator must be a single character other than ${[...RESERVED].join(' ')}; got ${JSON.stringify(separator)}`,
        { details: { option: 'separator' } },
      );
    }
    if (typeof prefix !== 'string' || /[{}*?[\]\\#%]/.test(prefix) || prefix.endsWith(separator)) {
      throw new RedisKitError(
        'ERR_REDISKIT_INVALID_OPTION',
        `prefix must be a string without { } # % or glob characters that does not end with the separator; got ${JSON.stringify(prefix)}`,
        { details: { option: 'prefix' } },
      );
    }
    if (!Number.isInteger(maxPartLength) || maxPartLength < 48 || maxPartLength > 4096) {
      throw new RedisKitError(
        'ERR_REDISKIT_INVALID_OPTION',
        `maxKeyPartLength must be an integer from 48 to 4096; got ${String(maxPartLength)}`,
        { details: { option: 'maxKeyPartLength' } },
      );
    }
    this.prefix = prefix;
    this.separator = separator;
    this.maxPartLength = maxPartLength;
    this.escapeSet = new Set([...RESERVED, separator]);
    this.needsEscape = new RegExp(`[${[...this.escapeSet].map((c) => (/[\\\]^[-]/.test(c) ? `\\${c}` : c)).join('')}]`);
  }

  /** Escapes (or hashes, when too long) one untrusted part. */
  part(value: string | number): string {
    const raw = typeof value === 'number' ? String(value) : value;
    if (typeof raw !== 'string') {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `a key part must be a string or number; got ${typeof raw}`);
    }
    // Most parts (ids, hashes, names) have nothing to escape: no per-character
    // walk for them. A UTF-16 unit is at most 3 UTF-8 bytes, so short parts
    // skip the byte count too.
    if (!this.needsEscape.test(raw)) {
      if (raw.length * 3 <= this.maxPartLength || Buffer.byteLength(raw, 'utf8') <= this.maxPartLength) return raw;
      return '#' + createHash('sha256').update(raw, 'utf8').digest('base64url');
    }
    let out = '';
    for (const ch of raw) {
      if (this.escapeSet.has(ch)) {
        out += '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
      } else {
        out += ch;
      }
    }
    if (Buffer.byteLength(out, 'utf8') > this.maxPartLength) {
      return '#' + createHash('sha256').update(raw, 'utf8').digest('base64url');
    }
    return out;
  }

  /** `prefix:part:part...` with every part escaped. */
  key(...parts: Array<string | number>): string {
    let out = this.prefix;
    for (const p of parts) out += this.separator + this.part(p);
    return out;
  }

  /**
   * Keys of one entity, all under one hash tag, so a script can touch them
   * together on Redis Cluster.
   */
  entity(namespace: string | number, id: string | number): EntityKeys {
    return new EntityKeys(this, `${this.part(namespace)}${this.separator}${this.part(id)}`);
  }

  /**
   * A SCAN MATCH pattern for every key under these leading parts (parts are
   * escaped the same way, so glob characters in them are literal).
   */
  pattern(...parts: Array<string | number>): string {
    return `${globEscape(this.key(...parts))}${this.separator}*`;
  }
}

/**
 * Keys sharing one hash tag `{namespace:id}`.
 *
 * @example
 * const e = kit.keys.entity('lock', 'invoice-42');
 * e.key('owner'); // 'rk:{lock:invoice-42}:owner'
 */
export class EntityKeys {
  /** The hash tag text, without braces. */
  readonly tag: string;

  constructor(
    private readonly space: KeySpace,
    tag: string,
  ) {
    this.tag = tag;
  }

  /** `prefix:{tag}` then the escaped suffix parts. */
  key(...suffix: Array<string | number>): string {
    let out = `${this.space.prefix}${this.space.separator}{${this.tag}}`;
    for (const p of suffix) out += this.space.separator + this.space.part(p);
    return out;
  }

  /** SCAN MATCH pattern for every key of this entity. */
  pattern(): string {
    return `${globEscape(`${this.space.prefix}${this.space.separator}{${this.tag}}`)}*`;
  }
}

/** Escapes glob characters for SCAN MATCH. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The hash tag Redis Cluster uses for `key` (the whole key when it has none). */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}
