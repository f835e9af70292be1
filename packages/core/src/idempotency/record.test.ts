import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import { createRedisKit, type RedisKit } from '../redis/redis-kit';
import { fingerprint } from './fingerprint';
import { IdempotencyEngine } from './idempotency';
import type { IdempotencyRequest } from './options';
import { doneRecordHead, FINGERPRINT_LENGTH, inProgressRecord, readRecord } from './record';

const fp = fingerprint({ method: 'POST', path: '/x', body: { a: 1 }, hasBody: true }).value;
const other = fingerprint({ method: 'POST', path: '/x', body: { a: 2 }, hasBody: true }).value;

describe('idempotency records', () => {
  it('reads back status, headers in order and body bytes exactly', () => {
    const body = randomBytes(4096); // any bytes, LF and ':' included
    const headers: Array<[string, string]> = [
      ['content-type', 'application/json; charset=utf-8'],
      ['location', 'https://example.com/orders/1?a=b:c'],
      ['x-multi', 'one'],
      ['x-multi', ''],
      ['x-latin', 'caf\u00e9'],
    ];
    const record = Buffer.concat([Buffer.from(doneRecordHead(fp, 201, headers, true), 'utf8'), body]);
    expect(readRecord(record, fp)).toEqual({ kind: 'done', status: 201, headers, body, stored: true });
    const bare = Buffer.from(doneRecordHead(fp, 409, [], false), 'utf8');
    expect(readRecord(bare, fp)).toEqual({ kind: 'done', status: 409, headers: [], body: Buffer.alloc(0), stored: false });
  });

  it('tells a different request apart, in progress or done', () => {
    expect(fp).toHaveLength(FINGERPRINT_LENGTH);
    expect(readRecord(Buffer.from(inProgressRecord(fp, 'a'.repeat(32))), fp)).toEqual({ kind: 'running' });
    expect(readRecord(Buffer.from(inProgressRecord(other, 'a'.repeat(32))), fp)).toEqual({ kind: 'mismatch' });
    expect(readRecord(Buffer.from(doneRecordHead(other, 200, [], true)), fp)).toEqual({ kind: 'mismatch' });
  });

  it('refuses bytes it did not write', () => {
    for (const bytes of ['', 'hello', `D${fp}1201content-type:x`, `D${fp}1`, `X${fp}`, `D${fp}12xxabc\n\n`]) {
      expect([bytes, readRecord(Buffer.from(bytes), fp)]).toEqual([bytes, undefined]);
    }
  });
});

describe('a key that holds something else', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('idem-record'), logger: false, operationTimeout: 1000 });
    await kit.ready();
  });
  afterAll(() => kit.close());

  const request = (key: string): IdempotencyRequest => ({
    method: 'POST',
    path: '/pay',
    headers: { 'content-type': 'application/json', 'content-length': '7' },
    rawHeaders: ['Idempotency-Key', key],
    body: { a: 1 },
    native: undefined,
  });

  it('is a store error under the fail policy, never a replay or a claim', async () => {
    const engine = new IdempotencyEngine(kit, { failPolicy: 'closed' });
    const errors: unknown[] = [];
    kit.events.on('store-error', (e) => errors.push(e));
    // The key this request uses: claim it once and find it.
    const first = await engine.begin(request('foreign-key-1'));
    if (first.action !== 'proceed' || !first.claim) throw new Error('expected a claim');
    const keys: string[] = [];
    for await (const k of kit.scan(`${kit.keys.prefix}:*`)) keys.push(k);
    expect(keys).toHaveLength(1);
    const key = keys[0]!;
    // A string the engine did not write, and a hash (WRONGTYPE for SET ... GET).
    for (const plant of [() => kit.redis.set(key, 'not a record'), () => kit.redis.hset(key, 'state', 'done')]) {
      await kit.redis.del(key);
      await plant();
      expect(await engine.begin(request('foreign-key-1'))).toMatchObject({ action: 'respond', response: { status: 503 } });
    }
    expect(errors).toHaveLength(2);
    await first.claim.release('error');
    await kit.redis.del(key);
  });
});
