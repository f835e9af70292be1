import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, createTasks, type RedisKit, type TaskWorker, type Tasks } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';

describe('delayed tasks on standalone Redis', () => {
  let url: string;
  let kit: RedisKit;
  let tasks: Tasks;
  const workers: Array<TaskWorker<any>> = [];
  const extraKits: RedisKit[] = [];

  beforeAll(async () => {
    url = await sharedRedisUrl();
    kit = createRedisKit({ url, prefix: uniquePrefix('tasks'), logger: false });
    await kit.ready();
    tasks = createTasks(kit);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close({ timeout: 0 })));
    await Promise.all(extraKits.splice(0).map((k) => k.close()));
  });
  afterAll(() => kit.close());

  function track<T>(w: TaskWorker<T>): TaskWorker<T> {
    workers.push(w);
    return w;
  }

  it('keeps a task invisible before it is due and delivers it after', async () => {
    const q = tasks.queue<{ n: number }>('due');
    const seen: Array<{ id: string; dueAt: number; serverNow: number }> = [];
    track(q.process(async (task) => {
      seen.push({ id: task.id, dueAt: task.dueAt, serverNow: await kit.time() });
    }));
    const r = await q.schedule({ n: 1 }, { delay: 1200 });
    expect(r.created).toBe(true);
    expect(await q.stats()).toMatchObject({ scheduled: 1, active: 0 });
    await waitFor('the task to run', async () => seen.length === 1);
    expect(seen[0]!.id).toBe(r.id);
    // The handler ran at or after the due time, by the Redis clock.
    expect(seen[0]!.serverNow).toBeGreaterThanOrEqual(r.dueAt);
    await waitFor('the task to be removed', async () => (await q.get(r.id)) === null);
    expect(await q.stats()).toEqual({ scheduled: 0, due: 0, active: 0, dead: 0 });
  });

  it('delivers in due order, FIFO within the same millisecond', async () => {
    const q = tasks.queue<number>('fifo');
    const at = (await kit.time()) + 600;
    // Interleave: 40 tasks at one millisecond, and 5 an instant earlier scheduled after them.
    for (let i = 0; i < 40; i++) await q.schedule(i, { at });
    for (let i = 0; i < 5; i++) await q.schedule(100 + i, { at: at - 1 });
    const order: number[] = [];
    track(q.process((task) => {
      order.push(task.payload);
    }));
    await waitFor('all 45 tasks', async () => order.length === 45);
    expect(order).toEqual([100, 101, 102, 103, 104, ...Array.from({ length: 40 }, (_, i) => i)]);
  });

  it('retries with backoff, then dead-letters after maxAttempts with the last error', async () => {
    const q = tasks.queue<string>('poison', { maxAttempts: 3, backoff: { type: 'fixed', delay: 50 } });
    const events: string[] = [];
    const off = kit.events.onAny((name, payload) => {
      if (name.startsWith('tasks:') && (payload as { queue?: string }).queue === 'poison') events.push(name);
    });
    const attempts: number[] = [];
    track(q.process((task) => {
      attempts.push(task.attempt);
      throw new Error(`boom ${task.attempt}`);
    }));
    const { id } = await q.schedule('bad');
    await waitFor('the task to be dead-lettered', async () => (await q.stats()).dead === 1);
    off();
    expect(attempts).toEqual([1, 2, 3]);
    const [dead] = await q.deadLetters();
    expect(dead).toMatchObject({ id, state: 'dead', payload: 'bad', attempts: 3, maxAttempts: 3, lastError: 'boom 3' });
    expect(events.filter((e) => e === 'tasks:retrying')).toHaveLength(2);
    expect(events.filter((e) => e === 'tasks:dead')).toHaveLength(1);
    // A dead task can be brought back with fresh attempts.
    expect(await q.reschedule(id, { delay: 0 })).toBe(true);
    await waitFor('three more attempts', async () => attempts.length === 6);
    expect(attempts.slice(3)).toEqual([1, 2, 3]);
    await waitFor('dead again', async () => (await q.stats()).dead === 1);
    expect(await q.cancel(id)).toBe(true);
    expect(await q.stats()).toEqual({ scheduled: 0, due: 0, active: 0, dead: 0 });
  });

  it('cancels and reschedules scheduled tasks', async () => {
    const q = tasks.queue<string>('moves');
    const ran: string[] = [];
    track(q.process((task) => {
      ran.push(task.payload);
    }));
    const a = await q.schedule('a', { delay: 60_000, id: 'a' });
    const b = await q.schedule('b', { delay: 60_000, id: 'b' });
    expect(await q.cancel(a.id)).toBe(true);
    expect(await q.cancel(a.id)).toBe(false);
    expect(await q.get(a.id)).toBeNull();
    expect(await q.reschedule(b.id, { delay: 0 })).toBe(true);
    await waitFor('b to run', async () => ran.length === 1);
    expect(ran).toEqual(['b']);
    expect(await q.reschedule('nope', { delay: 0 })).toBe(false);
    expect(await q.stats()).toMatchObject({ scheduled: 0, active: 0 });
  });

  it('dedupes by id while the task exists and for the dedupe window after it completed', async () => {
    const q = tasks.queue<string>('dedupe');
    const first = await q.schedule('one', { id: 'job-1', delay: 60_000 });
    const again = await q.schedule('two', { id: 'job-1' });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ id: 'job-1', created: false, state: 'scheduled', dueAt: first.dueAt });
    expect((await q.get('job-1'))?.payload).toBe('one');
    expect(await q.reschedule('job-1', { delay: 0 })).toBe(true);
    const ran: string[] = [];
    track(q.process((task) => {
      ran.push(task.payload);
    }));
    await waitFor('job-1 to run', async () => ran.length === 1 && (await q.get('job-1')) === null);
    expect(await q.schedule('three', { id: 'job-1' })).toMatchObject({ created: false, state: 'completed' });

    const forgetful = tasks.queue<string>('dedupe-none', { dedupeWindow: 0 });
    const done: string[] = [];
    track(forgetful.process((task) => {
      done.push(task.payload);
    }));
    await forgetful.schedule('x', { id: 'same' });
    await waitFor('x to run', async () => done.length === 1 && (await forgetful.get('same')) === null);
    expect((await forgetful.schedule('y', { id: 'same' })).created).toBe(true);
    await waitFor('y to run', async () => done.length === 2);
  });

  it("brings a crashed worker's task back after the lease, as attempt 2", async () => {
    const doomedKit = createRedisKit({ url, prefix: kit.keys.prefix, logger: false });
    extraKits.push(doomedKit);
    await doomedKit.ready();
    const doomed = createTasks(doomedKit).queue<string>('lease');
    let started = false;
    doomed.process(() => {
      started = true;
      return new Promise(() => {}); // never finishes: the process "hangs" then dies
    }, { lease: 400 });
    const q = tasks.queue<string>('lease');
    const { id } = await q.schedule('work');
    await waitFor('the doomed worker to start', async () => started);
    // The worker's process dies: no more lease extensions, no completion.
    await doomedKit.close();
    const runs: number[] = [];
    track(q.process((task) => {
      runs.push(task.attempt);
    }, { lease: 400 }));
    await waitFor('the task to run again', async () => runs.length === 1);
    expect(runs).toEqual([2]);
    await waitFor('the task to complete', async () => (await q.get(id)) === null);
  });

  it('dead-letters a task whose worker died on its last attempt', async () => {
    const doomedKit = createRedisKit({ url, prefix: kit.keys.prefix, logger: false });
    extraKits.push(doomedKit);
    await doomedKit.ready();
    let started = false;
    createTasks(doomedKit).queue<string>('lease-last').process(() => {
      started = true;
      return new Promise(() => {});
    }, { lease: 300 });
    const q = tasks.queue<string>('lease-last', { maxAttempts: 1 });
    const dead: Array<{ id: string; attempts: number }> = [];
    kit.events.on('tasks:dead', (p) => {
      if (p.queue === 'lease-last') dead.push({ id: p.id, attempts: p.attempts });
    });
    const { id } = await q.schedule('crashes its worker');
    await waitFor('the doomed worker to start', async () => started);
    await doomedKit.close();
    const runs: string[] = [];
    track(q.process((task) => {
      runs.push(task.id);
    }, { lease: 300 }));
    await waitFor('the task to be dead-lettered', async () => (await q.stats()).dead === 1);
    expect(runs).toEqual([]);
    expect(dead).toEqual([{ id, attempts: 1 }]);
    expect((await q.get(id))?.lastError).toMatch(/lease expired/);
  });

  it('keeps extending the lease of a slow but alive handler, so no other worker runs it', async () => {
    const q = tasks.queue<string>('slow');
    const runs: string[] = [];
    const handler = async (task: { id: string }) => {
      runs.push(task.id);
      await new Promise((r) => setTimeout(r, 3000));
    };
    // The handler runs three leases; the worker extends the lease every lease / 3.
    track(q.process(handler, { lease: 1000 }));
    track(q.process(handler, { lease: 1000 }));
    const { id } = await q.schedule('slow');
    await waitFor('the task to complete', async () => runs.length >= 1 && (await q.get(id)) === null);
    expect(runs).toEqual([id]);
  });

  it('runs up to `concurrency` handlers at once and gives unfinished tasks back on close', async () => {
    const q = tasks.queue<number>('shutdown');
    let active = 0;
    let peak = 0;
    const worker = q.process(async (task) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => task.signal.addEventListener('abort', resolve));
      active--;
    }, { concurrency: 3 });
    for (let i = 0; i < 5; i++) await q.schedule(i);
    await waitFor('three running', async () => active === 3);
    expect((await q.stats()).active).toBe(3);
    await worker.close({ timeout: 50 });
    expect(peak).toBe(3);
    // All five are scheduled again and none lost an attempt.
    const stats = await q.stats();
    expect(stats).toMatchObject({ scheduled: 5, active: 0, dead: 0 });
    const again: number[] = [];
    track(q.process((task) => {
      expect(task.attempt).toBe(1);
      again.push(task.payload);
    }, { concurrency: 5 }));
    await waitFor('all five to run', async () => again.length === 5);
    expect([...again].sort()).toEqual([0, 1, 2, 3, 4]);
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
    expect(code(() => createTasks(kit, { maxAttempts: 0 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => createTasks(kit, { maxAtempts: 3 } as never))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(code(() => createTasks(kit, { backoff: { type: 'linear' } as never }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => tasks.queue('')) ).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => tasks.process('x', (() => {}) as never, { lease: 10 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => tasks.process('x', 'nope' as never))).toBe('ERR_REDISKIT_INVALID_OPTION');
    // Bad call arguments are the caller's bug, reported before anything is sent.
    await expect(tasks.schedule('x', 1, { at: 1, delay: 1 })).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(tasks.schedule('x', 1, { dealy: 5 } as never)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(tasks.schedule('x', 1, { id: '' })).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT', details: { argument: 'tasks.schedule.id' } });
    await expect(tasks.reschedule('x', 'id', { delay: -1 })).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(tasks.cancel('x', 5 as never)).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_ARGUMENT' });
    await expect(tasks.schedule('x', 10n as never)).rejects.toMatchObject({ code: 'ERR_REDISKIT_SERIALIZE' });
  });
});
