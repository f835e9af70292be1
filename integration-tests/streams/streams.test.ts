import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createRedisKit,
  createStreams,
  type RedisKit,
  type StreamConsumer,
  type StreamMessage,
  type Streams,
} from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';

describe('reliable streams on standalone Redis', () => {
  let url: string;
  let kit: RedisKit;
  let streams: Streams;
  const consumers: Array<StreamConsumer<any>> = [];
  const extraKits: RedisKit[] = [];

  beforeAll(async () => {
    url = await sharedRedisUrl();
    kit = createRedisKit({ url, prefix: uniquePrefix('streams'), logger: false });
    await kit.ready();
    streams = createStreams(kit);
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.close({ timeout: 0 })));
    await Promise.all(extraKits.splice(0).map((k) => k.close()));
  });
  afterAll(() => kit.close());

  function track<T>(c: StreamConsumer<T>): StreamConsumer<T> {
    consumers.push(c);
    return c;
  }
  async function otherKit(): Promise<RedisKit> {
    const k = createRedisKit({ url, prefix: kit.keys.prefix, logger: false });
    extraKits.push(k);
    await k.ready();
    return k;
  }
  const pendingCount = async (stream: string, group: string) =>
    Number(((await kit.redis.xpending(streams.stream(stream).keys.stream, group)) as [number])[0]);

  it('creates the group, reads entries published before it, and acknowledges after the handler', async () => {
    const s = streams.stream<{ n: number }>('basic');
    for (let i = 0; i < 3; i++) await s.publish({ n: i });
    const seen: number[] = [];
    track(s.consume('g', (msg) => {
      expect(msg.deliveries).toBe(1);
      seen.push(msg.data.n);
    }));
    await waitFor('three entries', async () => seen.length === 3);
    await s.publish({ n: 3 });
    await waitFor('the fourth entry', async () => seen.length === 4);
    expect(seen).toEqual([0, 1, 2, 3]);
    await waitFor('all acknowledged', async () => (await pendingCount('basic', 'g')) === 0);
    const [group] = await s.groups();
    expect(group).toMatchObject({ name: 'g', pending: 0, lag: 0 });
  });

  it("reads its own pending entries first when it starts again under the same name", async () => {
    const s = streams.stream<string>('own');
    const first = await otherKit();
    let got = 0;
    createStreams(first).stream<string>('own').consume('g', () => {
      got++;
      return new Promise(() => {});
    }, { name: 'pod-1', concurrency: 2 });
    await s.publish('a');
    await s.publish('b');
    await waitFor('the first consumer to hold both', async () => got === 2);
    await first.close(); // the process dies holding two entries
    const seen: Array<[string, number]> = [];
    // minIdle far away: only the own-pending read can give them back.
    track(s.consume('g', (msg) => {
      seen.push([msg.data, msg.deliveries]);
    }, { name: 'pod-1', minIdle: 600_000 }));
    await waitFor('both entries again', async () => seen.length === 2);
    expect(seen).toEqual([
      ['a', 2],
      ['b', 2],
    ]);
    await waitFor('all acknowledged', async () => (await pendingCount('own', 'g')) === 0);
  });

  it('keeps the entries of a slow but alive handler from being claimed by another consumer', async () => {
    const s = streams.stream<string>('slow');
    const runs: Array<[string, number]> = [];
    const lost: string[] = [];
    const off = kit.events.onAny((name, p) => {
      if (name === 'streams:lost' && (p as { stream: string }).stream === 'slow') lost.push((p as { id: string }).id);
    });
    // Runs 2.5 times minIdle; the heartbeat (every minIdle / 3) keeps the
    // entry. minIdle is 2 s so a loaded CI machine that stalls the event loop
    // for a second still heartbeats in time.
    const handler = async (msg: StreamMessage<string>) => {
      runs.push([msg.consumer, msg.deliveries]);
      await new Promise((r) => setTimeout(r, 5000));
    };
    track(s.consume('g', handler, { minIdle: 2000, name: 'slow-a' }));
    track(s.consume('g', handler, { minIdle: 2000, name: 'slow-b' }));
    await s.publish('long job');
    await waitFor('the entry to be acknowledged', async () => runs.length >= 1 && (await pendingCount('slow', 'g')) === 0);
    off();
    expect(runs).toHaveLength(1);
    expect(runs[0]![1]).toBe(1);
    expect(lost).toEqual([]);
  });

  it('sends a poison entry to the dead-letter stream after maxDeliveries, acknowledged, with id, error and count', async () => {
    const s = streams.stream<{ bad: boolean }>('poison');
    const deliveries: number[] = [];
    track(s.consume('g', (msg) => {
      deliveries.push(msg.deliveries);
      throw new Error(`cannot handle ${msg.id}`);
    }, { minIdle: 300, maxDeliveries: 3 }));
    const { id } = await s.publish({ bad: true });
    await waitFor('the dead letter', async () => (await s.deadLetters()).length === 1);
    expect(deliveries).toEqual([1, 2, 3]);
    const [dead] = await s.deadLetters();
    expect(dead).toMatchObject({ id, group: 'g', deliveries: 3, error: `cannot handle ${id}`, data: { bad: true } });
    expect(await pendingCount('poison', 'g')).toBe(0);
    // Redrive: the event comes back as a new entry.
    const again = await s.redrive(dead!.deadLetterId);
    expect(again).not.toBeNull();
    expect(await s.deadLetters()).toEqual([]);
    await waitFor('the redriven entry to fail three times', async () => deliveries.length === 6);
  });

  it('dead-letters an entry whose consumers died holding it more than maxDeliveries times, without running it again', async () => {
    const s = streams.stream<string>('lost-twice');
    const doomedKit = await otherKit();
    let got = 0;
    createStreams(doomedKit).stream<string>('lost-twice').consume('g', () => {
      got++;
      return new Promise(() => {});
    }, { name: 'doomed', maxDeliveries: 1 });
    const { id } = await s.publish('kills its consumer');
    await waitFor('the doomed consumer to take it', async () => got === 1);
    await doomedKit.close();
    const runs: string[] = [];
    track(s.consume('g', (msg) => {
      runs.push(msg.id);
    }, { minIdle: 300, maxDeliveries: 1 }));
    await waitFor('the dead letter', async () => (await s.deadLetters()).length === 1);
    const [dead] = await s.deadLetters();
    expect(dead).toMatchObject({ id, deliveries: 2, data: 'kills its consumer' });
    expect(dead!.error).toMatch(/without being acknowledged/);
    expect(runs).toEqual([]);
    expect(await pendingCount('lost-twice', 'g')).toBe(0);
  });

  it('dedupes on the producer side', async () => {
    const s = streams.stream<string>('dedupe');
    const a = await s.publish('x', { id: 'evt-1' });
    const b = await s.publish('x again', { id: 'evt-1' });
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ id: a.id, duplicate: true });
    expect(await s.length()).toBe(1);
    const ttl = await kit.redis.pttl(s.entity.key('dedupe', 'evt-1'));
    expect(ttl).toBeGreaterThan(0);
  });

  it('applies an effect and the acknowledgement exactly once, even when two consumers get the entry', async () => {
    const s = streams.stream<{ amount: number }>('effect');
    const totals = s.key('totals');
    let releaseA!: () => void;
    const aMayFinish = new Promise<void>((r) => (releaseA = r));
    const results: Array<[string, boolean]> = [];
    let aStarted = false;
    // A's heartbeat is slow (minIdle 60 s); B treats entries idle 300 ms as abandoned and takes it.
    track(s.consume('g', async (msg) => {
      aStarted = true;
      await aMayFinish;
      const r = await msg.ackWith([{ command: 'HINCRBY', key: totals, args: ['eur', msg.data.amount] }]);
      results.push(['a', r.applied]);
    }, { name: 'effect-a', minIdle: 60_000 }));
    await s.publish({ amount: 42 });
    await waitFor('A to start', async () => aStarted);
    track(s.consume('g', async (msg) => {
      expect(msg.deliveries).toBe(2);
      const r = await msg.ackWith([
        { command: 'HINCRBY', key: totals, args: ['eur', msg.data.amount] },
        { command: 'PEXPIRE', key: totals, args: [60_000] },
      ]);
      expect(r.replies).toEqual([42, 1]);
      results.push(['b', r.applied]);
      await expect(msg.ackWith([{ command: 'HINCRBY', key: totals, args: ['eur', 1] }])).rejects.toMatchObject({
        code: 'ERR_REDISKIT_ALREADY_SETTLED',
      });
    }, { name: 'effect-b', minIdle: 300 }));
    await waitFor('B to apply the effect', async () => results.length === 1);
    releaseA();
    await waitFor('A to finish', async () => results.length === 2);
    expect(results).toEqual([
      ['b', true],
      ['a', false],
    ]);
    expect(await kit.redis.hget(totals, 'eur')).toBe('42');
    expect(await pendingCount('effect', 'g')).toBe(0);
  });

  it('refuses effect keys outside the stream hash slot with a coded error that says how to fix it', async () => {
    const s = streams.stream<string>('effect-slot');
    const errors: unknown[] = [];
    track(s.consume('g', async (msg) => {
      try {
        await msg.ackWith([{ command: 'INCR', key: kit.keys.key('elsewhere') }]);
      } catch (error) {
        errors.push(error);
      }
    }));
    await s.publish('x');
    await waitFor('the handler', async () => errors.length === 1);
    expect(errors[0]).toMatchObject({ code: 'ERR_REDISKIT_CROSS_SLOT' });
    expect(String((errors[0] as Error).message)).toContain('stream.key(');
    expect(await kit.redis.exists(kit.keys.key('elsewhere'))).toBe(0);
  });

  it('never trims entries still pending or not yet read by a group', async () => {
    const s = streams.stream<number>('trim', { maxLen: 10 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const handled: number[] = [];
    track(s.consume('g', async (msg) => {
      await gate;
      handled.push(msg.data);
    }, { concurrency: 5 }));
    await waitFor('the group', async () => (await s.groups()).length === 1);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await s.publish(i)).id);
    await waitFor('five entries in flight', async () => (await pendingCount('trim', 'g')) === 5);
    const held: number[] = [];
    const onHeld = (p: { stream: string; kept: number }) => {
      if (p.stream === 'trim') held.push(p.kept);
    };
    kit.events.on('streams:trim-held', onHeld);
    await s.publish(40);
    kit.events.off('streams:trim-held', onHeld);
    expect(held.length).toBe(1);
    // Nothing was trimmed: the five pending entries and the 36 unread ones are all there.
    const present = ((await kit.redis.xrange(s.keys.stream, '-', '+')) as Array<[string, string[]]>).map(([id]) => id);
    for (const id of ids) expect(present).toContain(id);
    release();
    await waitFor('all 41 handled', async () => handled.length === 41 && (await pendingCount('trim', 'g')) === 0);
    await s.publish(41);
    // Now trimming catches up to the cap (plus the slack of one entry).
    expect(await s.length()).toBeLessThanOrEqual(11);
    expect(await s.length()).toBeGreaterThanOrEqual(10);

    // A group that stopped reading holds trimming back too; deleting it releases it.
    await kit.redis.xgroup('CREATE', s.keys.stream, 'stalled', '$');
    const unread: string[] = [];
    for (let i = 0; i < 20; i++) unread.push((await s.publish(100 + i)).id);
    await waitFor('handled', async () => (await pendingCount('trim', 'g')) === 0 && handled.length === 62);
    const kept = ((await kit.redis.xrange(s.keys.stream, '-', '+')) as Array<[string, string[]]>).map(([id]) => id);
    for (const id of unread) expect(kept).toContain(id);
    expect(await s.deleteGroup('stalled')).toBe(true);
    await s.publish(200);
    expect(await s.length()).toBeLessThanOrEqual(11);
  });

  it('trims by length freely when no group exists, and by age', async () => {
    const s = streams.stream<number>('trim-free', { maxLen: 100 });
    for (let i = 0; i < 400; i++) await s.publish(i);
    // MAXLEN ~ removes whole nodes: at most a node (100 entries) plus the slack over.
    expect(await s.length()).toBeLessThanOrEqual(210);
    const aged = streams.stream<number>('trim-age', { maxAge: 200 });
    for (let i = 0; i < 150; i++) await aged.publish(i);
    await new Promise((r) => setTimeout(r, 400));
    await aged.publish(999);
    // MINID ~ removes whole nodes of entries older than 200 ms: at least the first full node went.
    expect(await aged.length()).toBeLessThan(151);
  });

  it('finishes handlers on close and releases unfinished entries to other consumers at once', async () => {
    const s = streams.stream<string>('close');
    const started: string[] = [];
    let finishQuick!: () => void;
    const quickMayFinish = new Promise<void>((r) => (finishQuick = r));
    const c = s.consume('g', async (msg) => {
      started.push(msg.data);
      if (msg.data === 'quick') return quickMayFinish;
      await new Promise((resolve) => msg.signal.addEventListener('abort', resolve));
    }, { concurrency: 2, name: 'closing-one', minIdle: 60_000 });
    await s.publish('quick');
    await s.publish('stuck');
    await waitFor('both started', async () => started.length === 2);
    const closed = c.close({ timeout: 1500 });
    finishQuick(); // finishes during the shutdown window
    await closed;
    // 'quick' finished and was acknowledged; 'stuck' was released with an idle time past any minIdle.
    const pending = (await kit.redis.xpending(s.keys.stream, 'g', '-', '+', 10)) as Array<[string, string, number, number]>;
    expect(pending).toHaveLength(1);
    expect(pending[0]![2]).toBeGreaterThan(60_000);
    const got: Array<[string, number]> = [];
    track(s.consume('g', (msg) => {
      got.push([msg.data, msg.deliveries]);
    }, { minIdle: 60_000, claimInterval: 100, consumerTimeout: 300, name: 'taker' }));
    await waitFor('the released entry', async () => got.length === 1);
    expect(got).toEqual([['stuck', 2]]);
    await waitFor('all acknowledged', async () => (await pendingCount('close', 'g')) === 0);
    // The closed consumer kept the released entry until it was taken, so it could not delete
    // itself; with nothing pending any more it is pruned once idle for consumerTimeout.
    await waitFor('the closed consumer to be pruned', async () =>
      (await s.consumersOf('g')).every((x) => x.name !== 'closing-one'),
    );
  });

  it('names consumers stably per process and deletes a consumer with nothing pending on close', async () => {
    const s = streams.stream<string>('names');
    const handledBy: string[] = [];
    const a = track(s.consume('g', (msg) => {
      handledBy.push(msg.consumer);
    }));
    const b = track(s.consume('g', (msg) => {
      handledBy.push(msg.consumer);
    }));
    expect(a.name).toMatch(/^.+:\d+:[0-9a-f]{6}$/);
    expect(b.name).toBe(`${a.name}#1`);
    await s.publish('x');
    await waitFor('the entry to be handled and acknowledged', async () => handledBy.length === 1 && (await pendingCount('names', 'g')) === 0);
    // Redis registers a consumer when it first gets an entry.
    expect((await s.consumersOf('g')).map((x) => x.name)).toEqual([handledBy[0]]);
    const owner = handledBy[0] === a.name ? a : b;
    await owner.close();
    expect(await s.consumersOf('g')).toEqual([]);
    // The freed name is used again by the next consumer of the group in this process.
    const c = track(s.consume('g', () => {}));
    expect(c.name).toBe(owner.name);
  });

  it('rejects bad configuration with coded errors', async () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
        return 'no error';
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    expect(code(() => createStreams(kit, { maxLen: 0 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => createStreams(kit, { maxlen: 5 } as never))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(code(() => streams.consume('x', 'g', () => {}, { minIdle: 50 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => streams.consume('x', 'g', () => {}, { minIdle: 1000, claimInterval: 5000 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => streams.consume('x', 'g', () => {}, { startFrom: 'middle' as never }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => streams.consume('x', 'my group', () => {}))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => streams.consume('x', 'g', 5 as never))).toBe('ERR_REDISKIT_INVALID_OPTION');
    await expect(streams.publish('x', undefined)).rejects.toMatchObject({ code: 'ERR_REDISKIT_SERIALIZE' });
    await expect(streams.publish('x', 1, { id: '' })).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(streams.stream('x').redrive('nope')).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
  });
});
