import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createRedisKit, SessionEngine, type RedisKit } from '@rediskit/core';
import { sharedClusterNodes, uniquePrefix, waitFor } from '@rediskit/testing';
import request from 'supertest';
import { createSessionApp } from './apps';
import { cookieHeader, sessionKey } from './helpers';

const HOUR = 3_600_000;
const cookie = () => ({ originalMaxAge: HOUR, expires: new Date(Date.now() + HOUR), path: '/' });
const newId = () => randomBytes(18).toString('base64url');

// Sessions live in one slot each, users' indexes in others: every operation
// that spans sessions must work across the masters of a real Cluster.
describe('sessions on Redis Cluster', () => {
  const kits: RedisKit[] = [];
  async function kit(prefix = uniquePrefix('cl-sess')): Promise<RedisKit> {
    const k = createRedisKit({ cluster: { nodes: await sharedClusterNodes() }, prefix, operationTimeout: 3000, logger: false });
    kits.push(k);
    await k.ready();
    return k;
  }
  let engine: SessionEngine;
  const users: Record<string, string[]> = { alice: [], bob: [], carol: [] };

  beforeAll(async () => {
    engine = new SessionEngine(await kit());
    for (const [user, ids] of Object.entries(users)) {
      for (let i = 0; i < 12; i++) {
        const id = newId();
        ids.push(id);
        await engine.set(id, { userId: user, i, cookie: cookie() });
      }
    }
  });
  afterAll(async () => {
    await Promise.all(kits.map((k) => k.close()));
  });

  const everyId = () => Object.values(users).flat();

  it('spreads sessions over several masters (so the rest of this suite means something)', async () => {
    const perMaster = await Promise.all(
      engine.kit.masters().map(async (node) => {
        let n = 0;
        for (const id of everyId()) if ((await node.exists(sessionKey(engine, id)).catch(() => 0)) === 1) n++;
        return n;
      }),
    );
    expect(perMaster.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe(everyId().length);
  });

  it('ids, length and all count each session once across every master, without CROSSSLOT', async () => {
    expect(await engine.length()).toBe(36);
    expect((await engine.ids()).sort()).toEqual(everyId().sort());
    const all = await engine.all();
    expect(all).toHaveLength(36);
    expect(new Set(all.map((x) => x.id)).size).toBe(36);
    expect(all.find((x) => x.id === users['bob']![3])!.session['i']).toBe(3);
  });

  it('lists, counts and revokes one user while the index and the sessions sit in different slots', async () => {
    expect(await engine.countSessions('alice')).toBe(12);
    const listed = await engine.listSessions('alice', { current: users['alice']![0] });
    expect(listed.map((s) => s.id).sort()).toEqual([...users['alice']!].sort());
    expect(await engine.revokeSessions('alice', { except: users['alice']![0] })).toBe(11);
    expect(await engine.countSessions('alice')).toBe(1);
    expect(await engine.countSessions('bob')).toBe(12);
    expect(await engine.get(users['alice']![5]!)).toBeNull();
    expect(await engine.set(users['alice']![5]!, { userId: 'alice', cookie: cookie() })).toBe('refused');
    expect(await engine.length()).toBe(25);
  });

  it('a second prefix on the same Cluster sees none of it', async () => {
    const other = new SessionEngine(await kit());
    await other.set(newId(), { userId: 'alice', cookie: cookie() });
    expect(await other.length()).toBe(1);
    expect(await other.countSessions('alice')).toBe(1);
    expect(await engine.countSessions('alice')).toBe(1);
  });

  it('expired sessions leave the index (lazily) and are never listed', async () => {
    const e = new SessionEngine(await kit());
    const ids = [newId(), newId(), newId()];
    for (const id of ids) await e.set(id, { userId: 'dora' }, { ttl: 200 });
    await waitFor('the sessions to expire', async () => (await e.length()) === 0);
    expect(await e.listSessions('dora')).toEqual([]);
    const index = e.kit.keys.entity('sess.u', 'dora').key();
    expect(await e.kit.exec((r) => r.exists(index))).toBe(0);
  });

  it('clear removes every session and index on every master', async () => {
    const e = new SessionEngine(await kit());
    for (let i = 0; i < 20; i++) await e.set(newId(), { userId: `u${i % 4}`, cookie: cookie() });
    expect(await e.clear()).toBe(20);
    expect(await e.length()).toBe(0);
    expect(await e.countSessions('u1')).toBe(0);
    let left = 0;
    for await (const _ of e.kit.scan(`${e.kit.keys.prefix}:*`)) left++;
    expect(left).toBe(20); // only the tombstones remain
    for await (const key of e.kit.scan(`${e.kit.keys.prefix}:*`)) expect(key.endsWith(':x')).toBe(true);
  });

  it('runs the express-session flow: login, revoke everywhere, logout race guard', async () => {
    const a = await createSessionApp('express', await kit());
    try {
      const devices = [];
      for (let i = 0; i < 3; i++) devices.push(cookieHeader(await request(a.url).post('/login?user=erin').expect(200)));
      await request(a.url).post('/logout-everywhere').set('Cookie', devices[0]!).expect(200, { revoked: 2 });
      expect((await request(a.url).get('/me').set('Cookie', devices[1]!).expect(200)).body.user).toBeNull();
      expect((await request(a.url).get('/me').set('Cookie', devices[0]!).expect(200)).body.user).toBe('erin');

      const latch = a.armSlow();
      const slow = request(a.url).post('/slow').set('Cookie', devices[0]!).then((r) => r);
      await latch.entered;
      await request(a.url).post('/logout').set('Cookie', devices[0]!).expect(200);
      latch.release();
      expect((await slow).status).toBe(200);
      expect((await request(a.url).get('/me').set('Cookie', devices[0]!).expect(200)).body.user).toBeNull();
      expect(await a.engine.countSessions('erin')).toBe(0);
    } finally {
      await a.close();
    }
  });
});
