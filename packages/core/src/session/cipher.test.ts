import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SessionCipher } from './cipher';
import { stripPrototypeKeys } from './serializer';

describe('SessionCipher', () => {
  const raw = randomBytes(32);

  it('accepts a key as Buffer, hex, base64 and base64url, all the same key', () => {
    const sealed = new SessionCipher('t', [raw]).seal(Buffer.from('hello'), 'd\0id');
    for (const form of [raw.toString('hex'), raw.toString('base64'), raw.toString('base64url'), new Uint8Array(raw)]) {
      const opened = new SessionCipher('t', [form]).open(sealed, 'd\0id');
      expect(opened).toEqual({ ok: true, plain: Buffer.from('hello') });
    }
  });

  it('seals with a fresh IV each time and binds the value to its additional data', () => {
    const c = new SessionCipher('t', [raw]);
    const a = c.seal(Buffer.from('same'), 'd\0a');
    const b = c.seal(Buffer.from('same'), 'd\0a');
    expect(a.equals(b)).toBe(false);
    expect(c.open(a, 'd\0b')).toEqual({ ok: false, reason: 'tampered' });
    expect(c.open(Buffer.from('{"plain":true}'), 'd\0a')).toEqual({ ok: false, reason: 'plaintext' });
    expect(c.open(a.subarray(0, 10), 'd\0a')).toEqual({ ok: false, reason: 'plaintext' });
  });

  it('opens values of every listed key and names an unlisted one', () => {
    const older = randomBytes(32);
    const sealedOld = new SessionCipher('t', [older]).seal(Buffer.from('x'), 'aad');
    expect(new SessionCipher('t', [raw, older]).open(sealedOld, 'aad').ok).toBe(true);
    expect(new SessionCipher('t', [raw]).open(sealedOld, 'aad')).toEqual({ ok: false, reason: 'unknown-key' });
  });
});

describe('stripPrototypeKeys', () => {
  it('removes __proto__, constructor and prototype own keys at any depth, keeps the rest', () => {
    const parsed = JSON.parse('{"a":{"__proto__":{"x":1},"b":[{"constructor":{"prototype":{"y":1}},"c":2}]},"prototype":1}');
    expect(stripPrototypeKeys(parsed)).toEqual({ a: { b: [{ c: 2 }] } });
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});
