import { describe, expect, it } from '@jest/globals';
import calculateSlot from 'cluster-key-slot';
import { hashTagOf, KeySpace } from './key-space';

const space = new KeySpace({ prefix: 'app', separator: ':', maxPartLength: 128 });

describe('KeySpace', () => {
  const hostile = [
    '',
    ':',
    '::',
    'a:b',
    'a',
    '{',
    '}',
    '{tag}',
    '}{',
    '%',
    '%3A',
    '#',
    '#abc',
    '*',
    '?',
    '[a-z]',
    '\\',
    'ünïcödé',
    '日本語',
    '🙂',
    'x'.repeat(10 * 1024),
    'x'.repeat(10 * 1024 - 1),
    'y'.repeat(10 * 1024),
    '\u0000',
    '\r\n',
  ];

  it('gives a distinct key for every hostile part', () => {
    const keys = hostile.map((p) => space.key('feature', p));
    expect(new Set(keys).size).toBe(hostile.length);
  });

  it('never lets a part change the number of segments', () => {
    for (const p of hostile) {
      const key = space.key('feature', p, 'tail');
      expect(key.split(':')).toHaveLength(4);
    }
  });

  it('never lets a part open or close a hash tag', () => {
    for (const p of hostile) {
      const key = space.key('feature', p);
      expect(key).not.toMatch(/[{}]/);
      expect(hashTagOf(key)).toBe(key);
      const entity = space.entity('sess', p).key('data');
      // Exactly one tag, the entity's.
      expect(entity.match(/\{/g)).toHaveLength(1);
      expect(entity.match(/\}/g)).toHaveLength(1);
    }
  });

  it('bounds every part (and so every key) in bytes', () => {
    for (const p of hostile) {
      const part = space.part(p);
      expect(Buffer.byteLength(part)).toBeLessThanOrEqual(128);
      expect(Buffer.byteLength(space.key('feature', p))).toBeLessThanOrEqual('app:feature:'.length + 128);
    }
    // A long part becomes a hash; long parts that differ in one character stay distinct.
    expect(space.part('x'.repeat(10 * 1024))).toMatch(/^#[A-Za-z0-9_-]{43}$/);
    expect(space.part('x'.repeat(10 * 1024))).not.toBe(space.part('x'.repeat(10 * 1024 - 1) + 'y'));
  });

  it('hashes a part exactly when its bytes exceed the bound, escaped or not', () => {
    const keys = new KeySpace({ prefix: 'p', separator: ':', maxPartLength: 48 });
    expect(keys.part('a'.repeat(48))).toBe('a'.repeat(48));
    expect(keys.part('a'.repeat(49))).toMatch(/^#/);
    expect(keys.part('é'.repeat(24))).toBe('é'.repeat(24)); // 48 bytes
    expect(keys.part('é'.repeat(25))).toMatch(/^#/);
    expect(keys.part('😀'.repeat(12))).toBe('😀'.repeat(12)); // 48 bytes in 24 UTF-16 units
    expect(keys.part('😀'.repeat(13))).toMatch(/^#/);
    expect(keys.part('a:'.repeat(13))).toMatch(/^#/); // 52 bytes once escaped
    expect(keys.part('a:'.repeat(12))).toBe('a%3A'.repeat(12));
  });

  it('keeps multi-byte parts under the bound by bytes, not characters', () => {
    const part = space.part('日'.repeat(50)); // 150 bytes
    expect(part.startsWith('#')).toBe(true);
  });

  it('co-locates the keys of one entity in one Cluster slot', () => {
    for (const p of hostile) {
      const e = space.entity('rl', p);
      const slots = new Set([e.key('a'), e.key('b', 'c'), e.key(p)].map((k) => calculateSlot(k)));
      expect(slots.size).toBe(1);
    }
  });

  it('keeps entities of different ids apart', () => {
    const tags = new Set(hostile.map((p) => space.entity('rl', p).tag));
    expect(tags.size).toBe(hostile.length);
  });

  it('builds SCAN patterns whose glob characters are literal', () => {
    expect(space.pattern('feature', '*')).toBe('app:feature:%2A:*');
    const odd = new KeySpace({ prefix: 'a-b_c.d', separator: '|', maxPartLength: 64 });
    expect(odd.key('x', 'y|z')).toBe('a-b_c.d|x|y%7Cz');
  });

  it('rejects prefixes and separators that would break keys', () => {
    expect(() => new KeySpace({ prefix: 'a{b', separator: ':', maxPartLength: 128 })).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }),
    );
    expect(() => new KeySpace({ prefix: 'app:', separator: ':', maxPartLength: 128 })).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }),
    );
    expect(() => new KeySpace({ prefix: 'app', separator: '{', maxPartLength: 128 })).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }),
    );
    expect(() => new KeySpace({ prefix: 'app', separator: '::', maxPartLength: 128 })).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }),
    );
    expect(() => new KeySpace({ prefix: 'app', separator: ':', maxPartLength: 10 })).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION' }),
    );
  });
});
