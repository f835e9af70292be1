import { describe, expect, it } from '@jest/globals';
import { randomToken } from './random-token';

describe('randomToken', () => {
  it('gives tokens of the asked size in the asked encoding', () => {
    expect(randomToken(16, 'hex')).toMatch(/^[0-9a-f]{32}$/);
    expect(randomToken(18, 'base64url')).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('never hands out the same bytes twice, across many refills of the pool', () => {
    const seen = new Set<string>();
    // 4096-byte pool: 20,000 tokens of 16 bytes refill it about 80 times,
    // and sizes that do not divide the pool cross its end.
    for (let i = 0; i < 20_000; i++) seen.add(randomToken(i % 3 === 0 ? 18 : 16, 'hex'));
    expect(seen.size).toBe(20_000);
  });
});
