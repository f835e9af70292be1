import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { RedisKitError } from '../errors';

/** A 32-byte AES-256 key: a Buffer, or its hex (64 chars) or base64/base64url (43-44 chars) text. */
export type SessionKey = Buffer | Uint8Array | string;

/** Why a stored value could not be opened. */
export type OpenFailure = 'tampered' | 'unknown-key' | 'unreadable' | 'plaintext';

const VERSION = 0x01;
const KEY_ID_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER = 1 + KEY_ID_BYTES + IV_BYTES;

function decodeKey(where: string, key: SessionKey, index: number): Buffer {
  let buf: Buffer | undefined;
  if (Buffer.isBuffer(key) || key instanceof Uint8Array) buf = Buffer.from(key);
  else if (typeof key === 'string') {
    if (/^[0-9a-fA-F]{64}$/.test(key)) buf = Buffer.from(key, 'hex');
    else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(key)) buf = Buffer.from(key, key.includes('-') || key.includes('_') ? 'base64url' : 'base64');
  }
  if (!buf || buf.length !== 32) {
    throw new RedisKitError(
      'ERR_REDISKIT_INVALID_OPTION',
      `${where}.encryption.keys[${index}] must be 32 bytes: a Buffer, 64 hex characters or base64 of 32 bytes (openssl rand -base64 32)`,
      { details: { option: `${where}.encryption.keys` } },
    );
  }
  return buf;
}

/**
 * AES-256-GCM for session values at rest, with a key list for rotation: new
 * values are sealed with the first key; a value sealed with any listed key
 * opens. Each value carries a 4-byte key id (a hash of the key, not the key),
 * a random 96-bit IV and the 128-bit tag; the additional data binds a value to
 * its session id and field, so a value copied to another session does not open.
 *
 * @example
 * const cipher = new SessionCipher('sessions', [process.env.KEY_2025!, process.env.KEY_2024!]);
 * const sealed = cipher.seal(Buffer.from('{"a":1}'), 'd\0' + id);
 * const opened = cipher.open(sealed, 'd\0' + id); // { ok: true, plain } or { ok: false, reason }
 */
export class SessionCipher {
  private readonly keys: Array<{ id: Buffer; key: Buffer }>;

  constructor(where: string, keys: readonly SessionKey[]) {
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${where}.encryption.keys must be a non-empty array of 32-byte keys`, {
        details: { option: `${where}.encryption.keys` },
      });
    }
    this.keys = keys.map((k, i) => {
      const key = decodeKey(where, k, i);
      return { key, id: createHash('sha256').update('rediskit-session-key\0').update(key).digest().subarray(0, KEY_ID_BYTES) };
    });
    const unique = new Set(this.keys.map((k) => k.key.toString('hex')));
    if (unique.size !== this.keys.length) {
      throw new RedisKitError('ERR_REDISKIT_INVALID_OPTION', `${where}.encryption.keys lists the same key twice`, {
        details: { option: `${where}.encryption.keys` },
      });
    }
  }

  /** Encrypts `plain` with the first key. */
  seal(plain: Buffer, aad: string): Buffer {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), id, iv, body, cipher.getAuthTag()]);
  }

  /** Decrypts a sealed value, or says why it cannot. Never throws. */
  open(sealed: Buffer, aad: string): { ok: true; plain: Buffer } | { ok: false; reason: OpenFailure } {
    if (sealed.length < HEADER + TAG_BYTES || sealed[0] !== VERSION) return { ok: false, reason: 'plaintext' };
    const keyId = sealed.subarray(1, 1 + KEY_ID_BYTES);
    const candidates = this.keys.filter((k) => k.id.equals(keyId));
    if (candidates.length === 0) return { ok: false, reason: 'unknown-key' };
    const iv = sealed.subarray(1 + KEY_ID_BYTES, HEADER);
    const body = sealed.subarray(HEADER, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    for (const { key } of candidates) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(tag);
        return { ok: true, plain: Buffer.concat([decipher.update(body), decipher.final()]) };
      } catch {
        // wrong key with a colliding id, or a modified value
      }
    }
    return { ok: false, reason: 'tampered' };
  }
}
