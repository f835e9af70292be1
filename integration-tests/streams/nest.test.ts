import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Body, Injectable, type OnModuleInit } from '@nestjs/common';
import { createRedisKit, Streams, Tasks, type RedisKit, type StreamConsumer, type TaskWorker } from '@rediskit/core';
import { RedisKitModule } from '@rediskit/nestjs';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import request from 'supertest';
import { createNestApp, makeController } from '../harness';

let kit: RedisKit;
beforeAll(async () => {
  kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('nest-streams'), logger: false });
  await kit.ready();
});
afterAll(() => kit.close());

it('injects Streams and Tasks through RedisKitModule and closes their consumers and workers with the app', async () => {
  const billed: string[] = [];
  const reminded: string[] = [];

  @Injectable()
  class OrdersService implements OnModuleInit {
    consumer!: StreamConsumer<{ orderId: string }>;
    worker!: TaskWorker<{ orderId: string }>;
    constructor(
      readonly streams: Streams,
      readonly tasks: Tasks,
    ) {}
    onModuleInit(): void {
      this.consumer = this.streams.consume<{ orderId: string }>('orders', 'billing', (msg) => {
        billed.push(msg.data.orderId);
      });
      this.worker = this.tasks.process<{ orderId: string }>('reminders', (task) => {
        reminded.push(task.payload.orderId);
      });
    }
    async place(orderId: string): Promise<void> {
      await this.streams.publish('orders', { orderId }, { id: `order:${orderId}` });
      await this.tasks.schedule('reminders', { orderId }, { delay: 100, id: `reminder:${orderId}` });
    }
  }

  const controller = makeController('', [
    {
      method: 'POST',
      path: 'orders',
      params: [Body()],
      status: 202,
      handler: async (body: { orderId: string }) => {
        await app.get(OrdersService).place(body.orderId);
        return { accepted: body.orderId };
      },
    },
  ]);
  const app = await createNestApp({
    imports: [RedisKitModule.forRoot({ kit, streams: { maxLen: 1000 }, tasks: { maxAttempts: 2 } })],
    controllers: [controller],
    providers: [OrdersService],
  });
  const service = app.get(OrdersService);
  try {
    expect(service.streams.stream('orders').options.maxLen).toBe(1000);
    expect(service.tasks.queue('reminders').options.maxAttempts).toBe(2);
    await request(app.getHttpServer()).post('/orders').send({ orderId: 'o-1' }).expect(202, { accepted: 'o-1' });
    await waitFor('the order event and the reminder', async () => billed.length === 1 && reminded.length === 1);
    expect(billed).toEqual(['o-1']);
    expect(reminded).toEqual(['o-1']);
  } finally {
    await app.close();
  }
  expect(service.consumer.closed).toBe(true);
  expect(service.worker.closed).toBe(true);
  expect(kit.state).toBe('ready');
});
