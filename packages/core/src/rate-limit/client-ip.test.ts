import { describe, expect, it } from '@jest/globals';
import { clientAddressKey } from './client-ip';

describe('clientAddressKey', () => {
  it('keeps IPv4 and folds IPv4-mapped IPv6 to IPv4', () => {
    expect(clientAddressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressKey('::FFFF:cb00:7107')).toBe('203.0.113.7');
  });

  it('groups IPv6 by a /56 prefix by default, whatever the spelling', () => {
    const a = clientAddressKey('2001:db8:abcd:1200::1');
    expect(a).toBe('2001:db8:abcd:1200::/56');
    expect(clientAddressKey('2001:0db8:abcd:12ff:ffff:ffff:ffff:ffff')).toBe(a);
    expect(clientAddressKey('2001:db8:abcd:1300::1')).not.toBe(a);
    expect(clientAddressKey('fe80::1%eth0', 64)).toBe('fe80::/64');
  });

  it('takes any prefix length, or full addresses', () => {
    expect(clientAddressKey('2001:db8:abcd:12ff::1', 48)).toBe('2001:db8:abcd::/48');
    expect(clientAddressKey('2001:db8:abcd:12ff::1', 60)).toBe('2001:db8:abcd:12f0::/60');
    expect(clientAddressKey('2001:db8::1', false)).toBe('2001:db8::1');
    expect(clientAddressKey('2001:db8::1', 128)).toBe('2001:db8::1');
  });

  it('answers the canonical IPv4 fast path as the full parser would', () => {
    // Canonical dotted-decimal skips ipaddr.js; every other spelling still goes through it.
    for (const [address, key] of [
      ['0.0.0.0', '0.0.0.0'],
      ['255.255.255.255', '255.255.255.255'],
      ['::ffff:10.0.0.1', '10.0.0.1'],
      ['::FFFF:10.0.0.1', '10.0.0.1'],
      ['010.0.0.1', '8.0.0.1'],
      ['10.0.0.01', '10.0.0.1'],
      ['256.0.0.1', '256.0.0.1'],
      ['1.2.3', '1.2.0.3'], // ipaddr.js reads a three-part address as a.b.0.c
    ] as const) {
      expect(clientAddressKey(address)).toBe(key);
    }
  });

  it('leaves what is not an address alone', () => {
    expect(clientAddressKey('unknown')).toBe('unknown');
  });
});
