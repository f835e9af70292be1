import {
  createStreams,
  createTasks,
  isRedisKitError,
  problemResponse,
  PROBLEM_TYPES,
  unavailableProblem,
  type EventStream,
  type RedisKit,
  type TaskQueue,
} from '@rediskit/core';
import { sendPlain } from '@rediskit/express';
import type { Response } from 'express';
import type { DemoFeature } from './types';

interface Reminder {
  user: string;
  text: string;
}

interface OrderEvent {
  type: 'order-placed';
  orderId: string;
  item: string;
  cents: number;
}

let reminders: TaskQueue<Reminder> | undefined;
let orders: EventStream<OrderEvent> | undefined;
let sentKey = '';
let orderSeq = 0;

function badRequest(res: Response, detail: string): void {
  sendPlain(res, problemResponse({ type: PROBLEM_TYPES.badRequest, title: 'Bad Request', status: 400, detail }));
}

function failed(res: Response, feature: string, error: unknown): void {
  if (isRedisKitError(error) && (error.code === 'ERR_REDISKIT_UNAVAILABLE' || error.code === 'ERR_REDISKIT_TIMEOUT')) {
    sendPlain(res, unavailableProblem(feature));
    return;
  }
  throw error;
}

/**
 * Delayed tasks and reliable streams: a "send reminder" task scheduled with a
 * delay (cancellable, deduplicated per user), and an order-events stream whose
 * "billing" consumer group keeps running totals with an exactly-once effect.
 */
export const streamsFeature: DemoFeature = {
  name: 'Delayed tasks and streams',
  routes: [
    {
      method: 'POST',
      path: '/reminders',
      description: 'Schedule a "send reminder" task (one per user: scheduling again is a no-op); body { user, text?, delay? ms, default 10000 }',
      curl: `curl -s -X POST localhost:$PORT/reminders -H 'content-type: application/json' -d '{"user":"ada","delay":5000}'`,
    },
    {
      method: 'DELETE',
      path: '/reminders/:user',
      description: "Cancel a user's reminder before it is sent",
      curl: 'curl -s -X DELETE localhost:$PORT/reminders/ada',
    },
    {
      method: 'POST',
      path: '/order-events',
      description: 'Publish an order-placed event; the billing consumer adds it to the totals exactly once; body { item, cents }',
      curl: `curl -s -X POST localhost:$PORT/order-events -H 'content-type: application/json' -d '{"item":"book","cents":1250}'`,
    },
    {
      method: 'GET',
      path: '/order-events/stats',
      description: 'Stream length, consumer groups, billing totals and dead letters',
      curl: 'curl -s localhost:$PORT/order-events/stats',
    },
  ],
  mount(app, kit) {
    const tasks = createTasks(kit, { maxAttempts: 3, backoff: { type: 'exponential', delay: 1000, maxDelay: 30_000 } });
    const streams = createStreams(kit, { maxLen: 10_000 });
    reminders = tasks.queue<Reminder>('reminders');
    orders = streams.stream<OrderEvent>('orders');
    sentKey = kit.keys.key('demo', 'sent-reminders');

    // The worker "sends" the reminder: here, it keeps the last ten in a capped list with a TTL.
    reminders.process(async (task) => {
      const line = `${new Date().toISOString()} → ${task.payload.user}: ${task.payload.text} (attempt ${task.attempt})`;
      await kit.exec(async (redis) => {
        await redis.multi().lpush(sentKey, line).ltrim(sentKey, 0, 9).pexpire(sentKey, 3_600_000).exec();
      }, { timeout: 2000 });
    });

    // The billing group adds each order to the totals and acknowledges it in one script.
    const totals = orders.key('totals');
    orders.consume('billing', async (msg) => {
      await msg.ackWith([
        { command: 'HINCRBY', key: totals, args: ['orders', 1] },
        { command: 'HINCRBY', key: totals, args: ['cents', msg.data.cents] },
      ]);
    }, { concurrency: 4, minIdle: 30_000 });

    app.post('/reminders', async (req, res) => {
      const body = (req.body ?? {}) as { user?: unknown; text?: unknown; delay?: unknown };
      if (typeof body.user !== 'string' || !/^[\w.-]{1,64}$/.test(body.user)) return badRequest(res, 'user must be 1-64 letters, digits, ".", "-" or "_"');
      const delay = body.delay === undefined ? 10_000 : Number(body.delay);
      if (!Number.isInteger(delay) || delay < 0 || delay > 86_400_000) return badRequest(res, 'delay must be an integer number of ms up to one day');
      const text = typeof body.text === 'string' ? body.text.slice(0, 200) : 'your cart misses you';
      try {
        const r = await reminders!.schedule({ user: body.user, text }, { delay, id: `reminder:${body.user}` });
        res.status(r.created ? 202 : 200).json({ ...r, dueAt: r.dueAt ? new Date(r.dueAt).toISOString() : null });
      } catch (error) {
        failed(res, 'reminders', error);
      }
    });

    app.delete('/reminders/:user', async (req, res) => {
      try {
        const cancelled = await reminders!.cancel(`reminder:${req.params.user}`);
        res.status(cancelled ? 200 : 404).json({ cancelled });
      } catch (error) {
        failed(res, 'reminders', error);
      }
    });

    app.post('/order-events', async (req, res) => {
      const body = (req.body ?? {}) as { item?: unknown; cents?: unknown };
      if (typeof body.item !== 'string' || body.item.length === 0 || body.item.length > 100) return badRequest(res, 'item must be a string of 1-100 characters');
      if (!Number.isInteger(body.cents) || (body.cents as number) <= 0) return badRequest(res, 'cents must be a positive integer');
      const orderId = `o-${Date.now()}-${++orderSeq}`;
      try {
        // The order id doubles as the dedupe id: a client retry after a timeout publishes once.
        const r = await orders!.publish({ type: 'order-placed', orderId, item: body.item, cents: body.cents as number }, { id: orderId });
        res.status(202).json({ orderId, entryId: r.id });
      } catch (error) {
        failed(res, 'orders', error);
      }
    });

    app.get('/order-events/stats', async (_req, res) => {
      try {
        res.json(await orderStats(kit));
      } catch (error) {
        failed(res, 'orders', error);
      }
    });
  },
  async panel(kit) {
    const [queue, sent, stats] = await Promise.all([
      reminders!.stats(),
      kit.exec((redis) => redis.lrange(sentKey, 0, 2), { operation: 'demo sent reminders' }),
      orderStats(kit),
    ]);
    return {
      'reminders scheduled': queue.scheduled,
      'reminders running': queue.active,
      'reminders dead': queue.dead,
      'last reminders sent': sent.length ? sent : 'none yet',
      'order events in stream': stats.length,
      'billing pending': stats.groups.find((g) => g.name === 'billing')?.pending ?? 0,
      'billing totals': stats.totals,
    };
  },
};

async function orderStats(kit: RedisKit) {
  const [length, groups, totals, dead] = await Promise.all([
    orders!.length(),
    orders!.groups(),
    kit.exec((redis) => redis.hgetall(orders!.key('totals')), { operation: 'demo totals' }),
    orders!.deadLetters({ count: 10 }),
  ]);
  return {
    length,
    groups,
    totals: { orders: Number(totals.orders ?? 0), cents: Number(totals.cents ?? 0) },
    deadLetters: dead.length,
  };
}
