import { describe, expect, it } from '@jest/globals';
import { canonicalJson, fingerprint, selectFields } from './fingerprint';

describe('canonical JSON and fingerprints', () => {
  it('sorts keys at every depth and drops insignificant whitespace', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 0 }], a: 'x', u: undefined })).toBe('{"a":"x","b":[2,{"c":0,"d":1}]}');
    expect(canonicalJson(JSON.parse('{ "z" : 1 ,\n "a": { "y": null, "b": true } }'))).toBe('{"a":{"b":true,"y":null},"z":1}');
  });

  it('gives reordered JSON bodies one fingerprint, and different bodies different ones', () => {
    const a = fingerprint({ method: 'POST', path: '/orders', body: { sku: 'a', qty: 1 }, hasBody: true });
    const b = fingerprint({ method: 'post', path: '/orders', body: { qty: 1, sku: 'a' }, hasBody: true });
    const c = fingerprint({ method: 'POST', path: '/orders', body: { qty: 2, sku: 'a' }, hasBody: true });
    expect(a.value).toBe(b.value);
    expect(a.value).not.toBe(c.value);
    expect(a.form).toBe('json');
  });

  it('covers path, query (order-insensitive) and raw bytes', () => {
    const base = { method: 'POST', path: '/x', hasBody: true, body: Buffer.from([1, 2, 3]) };
    expect(fingerprint(base).form).toBe('raw');
    expect(fingerprint(base).value).not.toBe(fingerprint({ ...base, path: '/y' }).value);
    expect(fingerprint({ ...base, query: 'a=1&b=2' }).value).toBe(fingerprint({ ...base, query: 'b=2&a=1' }).value);
    expect(fingerprint({ ...base, query: 'a=1' }).value).not.toBe(fingerprint({ ...base, query: 'a=2' }).value);
    expect(fingerprint({ ...base, body: Buffer.from([1, 2, 4]) }).value).not.toBe(fingerprint(base).value);
  });

  it('selects or ignores fields by dotted path', () => {
    const body = { amount: 5, meta: { traceId: 't1', note: 'n' }, sentAt: 1 };
    expect(selectFields(body, { exclude: ['sentAt', 'meta.traceId'] })).toEqual({ amount: 5, meta: { note: 'n' } });
    expect(selectFields(body, { include: ['amount', 'meta.note'] })).toEqual({ amount: 5, meta: { note: 'n' } });
    const fp = (b: unknown) => fingerprint({ method: 'POST', path: '/p', body: b, hasBody: true }, { exclude: ['sentAt'] }).value;
    expect(fp({ amount: 5, sentAt: 1 })).toBe(fp({ amount: 5, sentAt: 2 }));
    expect(fp({ amount: 5, sentAt: 1 })).not.toBe(fp({ amount: 6, sentAt: 1 }));
  });

  it('tells a body no parser exposed from no body', () => {
    expect(fingerprint({ method: 'POST', path: '/p', hasBody: true }).form).toBe('unparsed');
    expect(fingerprint({ method: 'POST', path: '/p', hasBody: false }).form).toBe('empty');
  });
});
