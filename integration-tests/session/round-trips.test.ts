import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, type RedisKit, type SessionOptions } from '@rediskit/core';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createSessionApp, type SessionApp } from './apps';
import { cookieHeader } from './helpers';

/**
 * Redis round trips per request through express-session, counted on the
 * client (each command the app's connection sends waits for its reply). The
 * benchmark against connect-redis compares these; docs/sessions.md lists them.
 */
describe('round trips per request (express-session, resave: false, saveUninitialized: false)', () => {
  const sent: string[] = [];
  const clients: Redis[] = [];
  const kits: RedisKit[] = [];
  const apps: SessionApp[] = [];
  let url: string;

  beforeAll(async () => {
    url = await sharedRedisUrl();
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await Promise.all(kits.map((k) => k.close()));
    for (const c of clients) c.disconnect();
  });

  async function app(session: SessionOptions = {}) {
    const client = new Redis(url, { enableOfflineQueue: false });
    clients.push(client);
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command: { name: string }, stream?: unknown) => {
      sent.push(command.name);
      return send(command as never, stream as never);
    }) as typeof client.sendCommand;
    const kit = createRedisKit({ client, prefix: uniquePrefix('rt'), operationTimeout: 2000, logger: false, validations: false });
    kits.push(kit);
    await kit.ready();
    const a = await createSessionApp('express', kit, { session });
    apps.push(a);
    // load every script once (EVALSHA falls back to EVAL only the first time)
    const warm = cookieHeader(await request(a.url).post('/login?user=warm').expect(200));
    await request(a.url).get('/me').set('Cookie', warm).expect(200);
    await request(a.url).post('/visit').set('Cookie', warm).expect(200);
    await request(a.url).post('/logout').set('Cookie', warm).expect(200);
    return a;
  }

  async function count(fn: () => Promise<unknown>): Promise<string[]> {
    sent.length = 0;
    await fn();
    return [...sent];
  }

  it('with touchAfter 0: anonymous 0, read-only 2 (GET + touch), changed 2, login 2, logout 3', async () => {
    const a = await app({ touchAfter: 0 });
    expect(await count(() => request(a.url).get('/me').expect(200))).toEqual([]);
    let cookie = '';
    const login = await count(async () => {
      cookie = cookieHeader(await request(a.url).post('/login?user=alice').expect(200));
    });
    // the owner's index entry, the save (regenerate of the id made in this request, never saved, needs no Redis)
    expect(login).toEqual(['evalsha', 'evalsha']);
    expect(await count(() => request(a.url).get('/me').set('Cookie', cookie).expect(200))).toEqual(['get', 'evalsha']);
    expect(await count(() => request(a.url).post('/visit').set('Cookie', cookie).expect(200))).toEqual(['get', 'evalsha']);
    expect(await count(() => request(a.url).post('/logout').set('Cookie', cookie).expect(200))).toEqual([
      'get',
      'evalsha',
      'zrem',
    ]);
  });

  it("by default (touchAfter 'auto'), a read-only request is one command", async () => {
    const a = await app();
    const cookie = cookieHeader(await request(a.url).post('/login?user=carl').expect(200));
    expect(await count(() => request(a.url).get('/me').set('Cookie', cookie).expect(200))).toEqual(['get']);
    expect(await count(() => request(a.url).get('/me').set('Cookie', cookie).expect(200))).toEqual(['get']);
    expect(await count(() => request(a.url).post('/visit').set('Cookie', cookie).expect(200))).toEqual(['get', 'evalsha']);
  });

  it('with touchAfter, a read-only request is one command', async () => {
    const a = await app({ touchAfter: 60_000 });
    const cookie = cookieHeader(await request(a.url).post('/login?user=bob').expect(200));
    expect(await count(() => request(a.url).get('/me').set('Cookie', cookie).expect(200))).toEqual(['get']);
    expect(await count(() => request(a.url).post('/visit').set('Cookie', cookie).expect(200))).toEqual(['get', 'evalsha']);
  });
});
