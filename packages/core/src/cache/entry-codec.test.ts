import { describe, expect, it } from '@jest/globals';
import { decodeEntry, encodeMeta, type EntryMeta } from './entry-codec';

/** The header the store script writes in front of the meta (see cache-layout.inc.lua). */
function header(o: { t0: number; fr: number; g?: string; bindings?: Array<[string, string]> }): Buffer {
  const fixed = Buffer.alloc(42);
  fixed.write('E', 0, 'latin1');
  fixed[1] = 1;
  fixed.writeUIntBE(o.t0, 2, 6);
  fixed.writeUIntBE(o.fr, 8, 6);
  fixed.writeUIntBE(o.fr + 1000, 14, 6);
  fixed.writeUIntBE(o.fr + 2000, 20, 6);
  fixed.writeUInt32BE(12, 38);
  const g = Buffer.from(o.g ?? '', 'latin1');
  const parts: Buffer[] = [fixed, Buffer.from([g.length]), g, Buffer.from([o.bindings?.length ?? 0])];
  for (const [part, version] of o.bindings ?? []) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(Buffer.byteLength(part));
    parts.push(len, Buffer.from(part), Buffer.from([version.length]), Buffer.from(version));
  }
  return Buffer.concat(parts);
}

describe('stored entries', () => {
  const t0 = 1_800_000_000_123;

  it('read back status, headers in order, flags, times and the body without a copy', () => {
    const meta: EntryMeta = {
      k: 'http',
      s: 203,
      a: 1,
      v: [],
      h: [
        ['content-type', 'text/plain; charset=utf-8'],
        ['link', '</a>; rel=a'],
        ['x-custom', 'caf\u00e9 \u00ff'],
        ['link', '</b>; rel=b'],
        ['x-long', 'v'.repeat(300)],
        [`x-${'n'.repeat(260)}`, ''],
      ],
    };
    const body = Buffer.from('hello body');
    const value = Buffer.concat([header({ t0, fr: t0 + 60_000, g: 'gen', bindings: [['products', 'abc123'], ['#hashed', 'v2']] }), encodeMeta(meta), body]);
    const entry = decodeEntry(value, ['accept-language']);
    expect(entry).toEqual({ meta: { ...meta, v: ['accept-language'] }, body, bornAt: t0, freshUntil: t0 + 60_000 });
    expect(entry!.body.buffer).toBe(value.buffer);
  });

  it('store common header names in one byte', () => {
    const meta: EntryMeta = { k: 'http', s: 200, v: [], h: [['content-type', 'text/html'], ['cache-control', 'max-age=60'], ['etag', '"x"'], ['date', 'Thu, 01 Jan 2026 00:00:00 GMT']] };
    const values = meta.h!.reduce((n, [, v]) => n + v.length, 0);
    // length, status, flags, count; then per header a code, a length and the value
    expect(encodeMeta(meta).length).toBe(4 + 2 + 1 + 2 + meta.h!.length * 2 + values);
  });

  it('read cache-aside values back as json or buffer', () => {
    for (const k of ['json', 'buffer'] as const) {
      const value = Buffer.concat([header({ t0, fr: t0 + 1 }), encodeMeta({ k, v: [] }), Buffer.from('[1]')]);
      expect(decodeEntry(value, [])).toEqual({ meta: { k, v: [] }, body: Buffer.from('[1]'), bornAt: t0, freshUntil: t0 + 1 });
    }
  });

  it('treat values of another format, kind or length as missing', () => {
    const good = Buffer.concat([header({ t0, fr: t0 + 1 }), encodeMeta({ k: 'http', s: 200, v: [], h: [['etag', '"1"']] }), Buffer.from('b')]);
    expect(decodeEntry(good, [])).toBeDefined();
    const otherFormat = Buffer.from(good);
    otherFormat[1] = 2;
    const record = Buffer.from(good);
    record.write('R', 0, 'latin1');
    const unknownName = Buffer.from(good);
    unknownName[44 + 4 + 5] = 200; // the header name's code: header, meta length, status, flags, count
    for (const bad of [otherFormat, record, unknownName, good.subarray(0, 50), Buffer.from('not an entry'), Buffer.alloc(0)]) {
      expect(decodeEntry(bad, [])).toBeUndefined();
    }
  });
});
