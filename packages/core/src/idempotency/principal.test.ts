import { describe, expect, it } from '@jest/globals';
import { defaultPrincipal, userIdOf } from './principal';

describe('default principal', () => {
  it('prefers the authenticated user over the Authorization header', () => {
    expect(defaultPrincipal({ authorization: 'Bearer t' }, { id: 42 })).toBe('user:42');
    expect(defaultPrincipal({}, { sub: 'auth0|abc' })).toBe('user:auth0|abc');
    expect(defaultPrincipal({}, 'u-7')).toBe('user:u-7');
  });

  it('hashes the Authorization header, so no credential is kept', () => {
    const p = defaultPrincipal({ authorization: 'Bearer secret-token' }, undefined);
    expect(p).toMatch(/^authz:[A-Za-z0-9_-]{43}$/);
    expect(p).not.toContain('secret');
    expect(p).not.toBe(defaultPrincipal({ authorization: 'Bearer other-token' }, undefined));
  });

  it('is anonymous without user or credentials, and ignores users without an id', () => {
    expect(defaultPrincipal({}, undefined)).toBe('');
    expect(defaultPrincipal({}, { name: 'no id' })).toBe('');
    expect(userIdOf({ _id: { toString: () => '65f0c0ffee' } })).toBe('65f0c0ffee');
  });
});
