import { describe, expect, it } from '@jest/globals';
import { parseStoredValue } from './stored-value';

/** The parser before numbers were read in place: the reference for every header. */
function reference(value: Buffer) {
  if (value.length < 3 || value.toString('latin1', 0, 3) !== 'R1:') return undefined;
  const numbers: number[] = [];
  let pos = 3;
  for (let n = 0; n < 7; n++) {
    const stop = value.indexOf(0x3a, pos);
    if (stop === -1) return undefined;
    const parsed = Number(value.toString('latin1', pos, stop));
    if (!Number.isFinite(parsed)) return undefined;
    numbers.push(parsed);
    pos = stop + 1;
  }
  return numbers;
}

describe('parseStoredValue', () => {
  it('reads the header, owner, cookie, raw id and data', () => {
    const v = parseStoredValue(Buffer.from('R1:1795770826041:1795774426041:0:1795778026022:3:7:2:bob{"c":1}id{"d":2}'));
    expect(v).toEqual({
      createdAt: 1795770826041,
      expiresAt: 1795774426041,
      deadline: 0,
      bound: 1795778026022,
      owner: 'bob',
      cookie: Buffer.from('{"c":1}'),
      rawId: 'id',
      data: Buffer.from('{"d":2}'),
    });
  });

  it('reads every header number as Number() does, and rejects what it rejects', () => {
    const fields = ['0', '', '7', '1795770826041', '9007199254740991', '12345678901234567890', '1e3', ' 5', '-3', '0x1f', 'abc', 'Infinity'];
    for (const f of fields) {
      const value = Buffer.from(`R1:${f}:2:${f}:4:0:0:0:data`);
      const ref = reference(value);
      const got = parseStoredValue(value);
      if (ref === undefined) expect(got).toBeUndefined();
      else expect([got?.createdAt, got?.expiresAt, got?.deadline, got?.bound]).toEqual(ref.slice(0, 4));
    }
  });

  it('rejects other formats and truncated values', () => {
    expect(parseStoredValue(Buffer.from('{"a":1}'))).toBeUndefined();
    expect(parseStoredValue(Buffer.from('R1:1:2:3'))).toBeUndefined();
    expect(parseStoredValue(Buffer.from('R1:1:2:0:0:9:0:0:bob'))).toBeUndefined();
  });
});
