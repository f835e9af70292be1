import { describe, expect, it } from '@jest/globals';
import { resolveIdempotencyOptions } from './options';

describe('resolveIdempotencyOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveIdempotencyOptions();
    expect(o).toMatchObject({
      required: false,
      header: 'idempotency-key',
      minKeyLength: 8,
      maxKeyLength: 255,
      lease: 5000,
      retention: 86_400_000,
      maxProcessingTime: 300_000,
      wait: false,
      waitTimeout: 10_000,
      maxResponseBytes: 1 << 20,
      oversize: 'record',
      failPolicy: 'closed',
    });
    expect([...o.methods]).toEqual(['POST', 'PUT', 'PATCH', 'DELETE']);
    expect([...o.replayHeaders]).toEqual(['content-type', 'location', 'etag', 'content-location', 'cache-control']);
    expect([200, 201, 303, 400, 404, 409, 422].every(o.storeStatus)).toBe(true);
    expect([408, 425, 429, 500, 502, 503].some(o.storeStatus)).toBe(false);
    expect(Object.isFrozen(o)).toBe(true);
  });

  it.each([
    [{ lease: 50 }, 'idempotency.lease'],
    [{ retention: -1 }, 'idempotency.retention'],
    [{ minKeyLength: 10, maxKeyLength: 9 }, 'idempotency.maxKeyLength'],
    [{ methods: ['GET'] }, 'idempotency.methods'],
    [{ methods: [] }, 'idempotency.methods'],
    [{ replayHeaders: ['Set-Cookie'] }, 'idempotency.replayHeaders'],
    [{ keyPattern: /a/g }, 'idempotency.keyPattern'],
    [{ keyPattern: 'abc' }, 'idempotency.keyPattern'],
    [{ fingerprintFields: ['a'], ignoreFields: ['b'] }, 'idempotency.ignoreFields'],
    [{ oversize: 'drop' }, 'idempotency.oversize'],
    [{ failPolicy: 'maybe' }, 'idempotency.failPolicy'],
    [{ principal: 'user' }, 'idempotency.principal'],
    [{ lease: 10_000, maxProcessingTime: 5000 }, 'idempotency.maxProcessingTime'],
    [{ wait: 'yes' }, 'idempotency.wait'],
  ])('rejects %j with ERR_REDISKIT_INVALID_OPTION naming the option', (options, option) => {
    expect(() => resolveIdempotencyOptions(options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_INVALID_OPTION', details: { option } }),
    );
  });

  it('rejects unknown options with a hint', () => {
    expect(() => resolveIdempotencyOptions({ retenion: 5 } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_REDISKIT_UNKNOWN_OPTION', message: expect.stringContaining('"retention"') }),
    );
  });
});
