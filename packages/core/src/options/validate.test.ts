import { describe, expect, it } from '@jest/globals';
import { isRedisKitError } from '../errors';
import { assertKnownOptions, optEnum, optNumber } from './validate';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isRedisKitError(error) ? error.code : 'not a RedisKitError';
  }
  return undefined;
}

describe('option validation', () => {
  it('names an unknown option and suggests the closest known one', () => {
    expect(() => assertKnownOptions('cache', { tll: 5 }, ['ttl', 'tags'])).toThrow(/unknown option "tll".*did you mean "ttl"/);
    expect(codeOf(() => assertKnownOptions('cache', { tll: 5 }, ['ttl']))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(codeOf(() => assertKnownOptions('cache', 'nope', ['ttl']))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(() => assertKnownOptions('cache', { ttl: 1 }, ['ttl']))).toBeUndefined();
  });

  it('checks numbers against their rule and says what was expected', () => {
    expect(optNumber('rl', 'limit', undefined, 10, { min: 1 })).toBe(10);
    expect(() => optNumber('rl', 'limit', 0, 10, { min: 1, integer: true })).toThrow('rl.limit must be an integer >= 1; got 0');
    expect(codeOf(() => optNumber('rl', 'limit', Number.NaN, 1))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(() => optNumber('rl', 'limit', '5', 1))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(codeOf(() => optNumber('rl', 'limit', 1.5, 1, { integer: true }))).toBe('ERR_REDISKIT_INVALID_OPTION');
  });

  it('checks enums', () => {
    expect(optEnum('rl', 'policy', undefined, ['open', 'closed'], 'open')).toBe('open');
    expect(() => optEnum('rl', 'policy', 'shut', ['open', 'closed'], 'open')).toThrow('one of "open", "closed"');
  });
});
