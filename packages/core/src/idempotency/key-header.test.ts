import { describe, expect, it } from '@jest/globals';
import { parseIdempotencyKey, type KeyRules } from './key-header';

const rules: KeyRules = { header: 'idempotency-key', minLength: 8, maxLength: 255, pattern: /^[A-Za-z0-9_.~:+/=-]+$/ };
const parse = (...values: string[]) => parseIdempotencyKey(values.flatMap((v) => ['Idempotency-Key', v]), rules);

describe('parseIdempotencyKey', () => {
  it('accepts the draft sf-string form and a bare key, with the same key', () => {
    expect(parse('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toEqual({
      kind: 'key',
      key: '8e03978e-40d5-43e8-bc93-6894a57f9324',
      form: 'sf-string',
    });
    expect(parse('8e03978e-40d5-43e8-bc93-6894a57f9324')).toEqual({
      kind: 'key',
      key: '8e03978e-40d5-43e8-bc93-6894a57f9324',
      form: 'token',
    });
  });

  it('reports a missing header, and matches the header name case-insensitively', () => {
    expect(parseIdempotencyKey(['Content-Type', 'text/plain'], rules)).toEqual({ kind: 'missing' });
    expect(parseIdempotencyKey(['IDEMPOTENCY-KEY', 'abcdefgh'], rules)).toMatchObject({ kind: 'key', key: 'abcdefgh' });
  });

  it.each([
    ['empty', ''],
    ['too short', 'abc1234'],
    ['too short quoted', '"abc1234"'],
    ['too long', 'a'.repeat(256)],
    ['space inside', 'abc defgh'],
    ['non-ASCII', 'clé-de-test'],
    ['angle brackets', '<script>x'],
    ['a list', '"abcdefgh", "ijklmnop"'],
    ['bad escape', '"abcdefgh\\q"'],
    ['unterminated', '"abcdefgh'],
    ['a token inside quotes pattern break', '"abc defgh"'],
  ])('rejects %s', (_, value) => {
    expect(parse(value).kind).toBe('invalid');
  });

  it('rejects two header lines', () => {
    expect(parse('abcdefgh', 'abcdefgh')).toMatchObject({ kind: 'invalid' });
  });

  it('accepts exactly the length bounds and ignores sf parameters', () => {
    expect(parse('a'.repeat(8)).kind).toBe('key');
    expect(parse('a'.repeat(255)).kind).toBe('key');
    expect(parse('"abcdefgh";v=1')).toMatchObject({ kind: 'key', key: 'abcdefgh' });
  });
});
