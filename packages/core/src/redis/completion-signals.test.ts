import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { CompletionSignals } from './completion-signals';
import { createRedisKit, type RedisKit } from './redis-kit';

let kit: RedisKit;
beforeAll(async () => {
  kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('signals'), logger: false, operationTimeout: 2000 });
  await kit.ready();
});
afterAll(() => kit.close());

const subscribers = async (channel: string) => Number(((await kit.redis.pubsub('NUMSUB', channel)) as [string, number])[1]);

describe('CompletionSignals', () => {
  it('wakes every listener of a channel by default', async () => {
    const signals = new CompletionSignals(kit);
    const channel = kit.keys.key('all');
    const [a, b] = await Promise.all([signals.listen(channel, 2000), signals.listen(channel, 2000)]);
    const woken = Promise.all([a.next(10_000), b.next(10_000)]);
    await kit.redis.publish(channel, 'done');
    expect(await woken).toEqual([true, true]);
    a.close();
    b.close();
    await waitFor('unsubscribed', async () => (await subscribers(channel)) === 0);
  });

  it('with wakeOne, wakes one waiting listener per message, in turn', async () => {
    const signals = new CompletionSignals(kit, { wakeOne: true });
    const channel = kit.keys.key('one');
    const a = await signals.listen(channel, 2000);
    const b = await signals.listen(channel, 2000);
    const woken: string[] = [];
    const waitA = a.next(10_000).then((hit) => hit && woken.push('a'));
    const waitB = b.next(10_000).then((hit) => hit && woken.push('b'));
    await kit.redis.publish(channel, 'released');
    // Both would be woken by the same 'message' event; only one is.
    await waitFor('one woken', async () => woken.length >= 1);
    expect(woken).toHaveLength(1);
    await kit.redis.publish(channel, 'released');
    await Promise.all([waitA, waitB]);
    expect(woken.sort()).toEqual(['a', 'b']);
    a.close();
    b.close();
  });

  it('with linger, keeps a channel subscribed for a while after its last listener left', async () => {
    const signals = new CompletionSignals(kit, { linger: 300 });
    const channel = kit.keys.key('linger');
    const a = await signals.listen(channel, 2000);
    a.close();
    expect(signals.listening).toBe(0);
    expect(await subscribers(channel)).toBe(1);
    // A new listener in the meantime reuses the subscription.
    const b = await signals.listen(channel, 2000);
    const woken = b.next(10_000);
    await kit.redis.publish(channel, 'done');
    expect(await woken).toBe(true);
    b.close();
    await waitFor('unsubscribed after the linger', async () => (await subscribers(channel)) === 0);
  });
});
