import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, createStreams, type RedisKit, type Streams } from '@rediskit/core';
import { sharedClusterNodes, uniquePrefix, waitFor } from '@rediskit/testing';

// Everything that spans keys (stream + dedupe key, stream + dead-letter
// stream, stream + effect keys) on the local 6-node Cluster.
describe('reliable streams on Redis Cluster', () => {
  let kit: RedisKit;
  let streams: Streams;
  beforeAll(async () => {
    kit = createRedisKit({ cluster: { nodes: await sharedClusterNodes() }, prefix: uniquePrefix('streams-cluster'), logger: false });
    await kit.ready();
    streams = createStreams(kit);
  });
  afterAll(async () => {
    await streams.close();
    await kit.close();
  });

  it('publishes with dedupe, consumes with blocking reads, dead-letters and applies effects exactly once', async () => {
    const names = ['orders', 'payments', 'emails'];
    for (const name of names) {
      const s = streams.stream<{ n: number; poison?: boolean }>(name, { maxLen: 20 });
      const totals = s.key('totals');
      const seen: number[] = [];
      s.consume('g', async (msg) => {
        if (msg.data.poison) throw new Error('poison');
        seen.push(msg.data.n);
        await msg.ackWith([{ command: 'HINCRBY', key: totals, args: ['sum', msg.data.n] }]);
      }, { minIdle: 300, maxDeliveries: 2, block: 500 });
      const first = await s.publish({ n: 1 }, { id: 'once' });
      expect(await s.publish({ n: 1 }, { id: 'once' })).toEqual({ id: first.id, duplicate: true });
      for (let n = 2; n <= 30; n++) await s.publish({ n });
      const bad = await s.publish({ n: 0, poison: true });
      await waitFor(`${name}: all handled`, async () => seen.length === 30);
      await waitFor(`${name}: the poison entry dead-lettered`, async () => (await s.deadLetters()).length === 1);
      const [dead] = await s.deadLetters();
      expect(dead).toMatchObject({ id: bad.id, deliveries: 2, error: 'poison' });
      expect(await kit.redis.hget(totals, 'sum')).toBe(String((30 * 31) / 2));
      await waitFor(`${name}: nothing pending`, async () => (await s.groups())[0]?.pending === 0);
      await s.publish({ n: 99 });
      await waitFor(`${name}: trimmed near maxLen`, async () => (await s.length()) <= 22);
    }
    // The streams live on more than one master.
    const masters = new Set<string>();
    for (const n of names) {
      const slot = Number(await kit.redis.cluster('KEYSLOT', streams.stream(n).keys.stream));
      masters.add((kit.redis as unknown as { slots: string[][] }).slots[slot]![0]!);
    }
    expect(masters.size).toBeGreaterThan(1);
  });

  it('refuses an effect key from another slot with ERR_REDISKIT_CROSS_SLOT before sending anything', async () => {
    const s = streams.stream<string>('slots');
    const errors: Array<{ code?: string }> = [];
    s.consume('g', async (msg) => {
      try {
        await msg.ackWith([{ command: 'SET', key: streams.stream('other').key('x'), args: ['1'] }]);
      } catch (error) {
        errors.push(error as { code?: string });
      }
    });
    await s.publish('x');
    await waitFor('the handler', async () => errors.length === 1);
    expect(errors[0]!.code).toBe('ERR_REDISKIT_CROSS_SLOT');
  });
});
