import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { sharedRedisUrl, uniquePrefix, waitFor } from '@rediskit/testing';
import { isRedisKitError } from '../errors';
import { createRedisKit, type RedisKit } from '../redis/redis-kit';
import type { RedisKitEventMap } from '../events';
import { SessionEngine } from './session-engine';
import type { SessionOptions } from './options';
import { parseStoredValue } from './stored-value';

const HOUR = 3_600_000;
const kits: RedisKit[] = [];
let url: string;
let admin: Redis;

beforeAll(async () => {
  url = await sharedRedisUrl();
  admin = new Redis(url);
});
afterAll(async () => {
  await Promise.all(kits.map((k) => k.close()));
  admin.disconnect();
});

async function engine(options: SessionOptions = {}, prefix = uniquePrefix('sess')): Promise<SessionEngine> {
  const kit = createRedisKit({ url, prefix, operationTimeout: 2000, logger: false });
  kits.push(kit);
  await kit.ready();
  return new SessionEngine(kit, options);
}

function newId(): string {
  return randomBytes(18).toString('base64url');
}

function cookie(maxAge: number) {
  return { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge), httpOnly: true, path: '/' };
}

function record<K extends keyof RedisKitEventMap>(kit: RedisKit, name: K): Array<RedisKitEventMap[K]> {
  const seen: Array<RedisKitEventMap[K]> = [];
  kit.events.on(name, (p) => seen.push(p));
  return seen;
}

const keyOf = (s: SessionEngine, id: string) => s.kit.keys.entity('sess', id).key();
const storedOf = async (s: SessionEngine, id: string) => parseStoredValue((await admin.getBuffer(keyOf(s, id)))!)!;
/** Writes a value the way the save script lays it out, bypassing the engine (a corrupted or hostile store). */
const writeRaw = (s: SessionEngine, id: string, data: string) =>
  admin.set(keyOf(s, id), `R1:1:${Date.now() + HOUR}:0:0:0:0:0:${data}`, 'PX', HOUR);

describe('ttl', () => {
  it('comes from cookie.expires: PTTL within 1% of the cookie maxAge', async () => {
    const s = await engine();
    const id = newId();
    await s.set(id, { n: 1, cookie: cookie(HOUR) });
    const pttl = await admin.pttl(keyOf(s, id));
    expect(pttl).toBeLessThanOrEqual(HOUR);
    expect(pttl).toBeGreaterThan(HOUR * 0.99);
  });

  it('falls back to the ttl option (number or function), then to one day', async () => {
    const byDefault = await engine();
    const a = newId();
    await byDefault.set(a, { n: 1, cookie: { originalMaxAge: null, expires: null } });
    expect(await admin.pttl(keyOf(byDefault, a))).toBeGreaterThan(86_400_000 * 0.99);

    const fixed = await engine({ ttl: 2 * HOUR });
    const b = newId();
    await fixed.set(b, { n: 1 });
    expect(await admin.pttl(keyOf(fixed, b))).toBeGreaterThan(2 * HOUR * 0.99);

    const fn = await engine({ ttl: (sess) => (sess['remember'] ? 10 * HOUR : HOUR) });
    const c = newId();
    await fn.set(c, { remember: true });
    expect(await admin.pttl(keyOf(fn, c))).toBeGreaterThan(10 * HOUR * 0.99);
  });

  it('is kept in milliseconds: a 50 ms session is gone at 100 ms', async () => {
    const s = await engine();
    const id = newId();
    expect(await s.set(id, { n: 1 }, { ttl: 50 })).toBe('created');
    // -2 once it is gone; never a TTL rounded up to a whole second
    expect(await admin.pttl(keyOf(s, id))).toBeLessThanOrEqual(50);
    await waitFor('the 50 ms session to expire', async () => (await admin.exists(keyOf(s, id))) === 0);
    expect(await s.get(id)).toBeNull();
  });

  it('is not rounded to seconds', async () => {
    const s = await engine();
    const id = newId();
    await s.set(id, { n: 1 }, { ttl: 1234 });
    // created and expires-at come from one TIME call in the save script
    const stored = await storedOf(s, id);
    expect(stored.expiresAt - stored.createdAt).toBe(1234);
    const pttl = await admin.pttl(keyOf(s, id));
    expect(pttl).toBeLessThanOrEqual(1234);
    expect(pttl).toBeGreaterThan(0);
  });

  it('zero or negative deletes the session', async () => {
    const s = await engine();
    const id = newId();
    await s.set(id, { n: 1, cookie: cookie(HOUR) });
    expect(await s.set(id, { n: 2, cookie: { ...cookie(HOUR), expires: new Date(Date.now() - 1000) } })).toBe('deleted');
    expect(await admin.exists(keyOf(s, id))).toBe(0);
    expect(await s.set(newId(), { n: 1 }, { ttl: 0 })).toBe('deleted');
  });
});

describe('get', () => {
  it('returns the data with cookie.expires as a Date, unicode intact', async () => {
    const s = await engine();
    const id = newId();
    const c = cookie(HOUR);
    const data = { name: 'Zoë 🚀 名前', nested: { list: [1, 'two', null] }, cookie: c };
    await s.set(id, data);
    const back = await s.get(id);
    expect(back).toEqual({ ...data, cookie: { ...c, expires: c.expires } });
    expect((back!['cookie'] as { expires: unknown }).expires).toBeInstanceOf(Date);
  });

  it('round-trips Dates in the data through a custom serializer', async () => {
    const s = await engine({
      serializer: {
        stringify: (v) => JSON.stringify(v, function (this: Record<string, unknown>, k) {
          const raw = this[k];
          return raw instanceof Date ? { $date: raw.toISOString() } : raw;
        }),
        parse: (t) => JSON.parse(t, (_k, x) => (x && typeof x === 'object' && typeof x.$date === 'string' ? new Date(x.$date) : x)),
      },
    });
    const id = newId();
    const at = new Date('2026-01-02T03:04:05.678Z');
    await s.set(id, { at, text: 'ünïcödé ✓', cookie: cookie(HOUR) });
    const back = await s.get(id);
    expect(back!['at']).toEqual(at);
    expect(back!['at']).toBeInstanceOf(Date);
    expect(back!['text']).toBe('ünïcödé ✓');
  });

  it('drops __proto__ / constructor / prototype keys so they cannot reach a prototype', async () => {
    const s = await engine();
    const id = newId();
    await writeRaw(s, id, '{"a":1,"__proto__":{"polluted":true},"x":{"constructor":{"prototype":{"polluted":true}}}}');
    const back = await s.get(id);
    expect(back).toEqual({ a: 1, x: {} });
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    const target: Record<string, unknown> = {};
    for (const k of Object.keys(back!)) Reflect.set(target, k, back![k]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(target['polluted']).toBeUndefined();
  });

  it('drops those keys also when the JSON spells them with \\u escapes', async () => {
    const s = await engine();
    const id = newId();
    await writeRaw(s, id, '{"a":1,"\\u005f_proto__":{"polluted":true},"x":{"\\u0063onstructor":{"polluted":true}}}');
    const back = await s.get(id);
    expect(back).toEqual({ a: 1, x: {} });
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(back, '__proto__')).toBe(false);
  });

  it('reads a stored value that is not JSON as no session, with a rejected event', async () => {
    const s = await engine();
    const rejected = record(s.kit, 'session:rejected');
    const id = newId();
    await writeRaw(s, id, 'not json');
    expect(await s.get(id)).toBeNull();
    expect(rejected).toEqual([{ handle: s.handleOf(id), reason: 'unreadable' }]);
  });
});

describe('keys', () => {
  it('stores a session under the escaped key of its id, whatever the separator, and its tombstone beside it', async () => {
    for (const separator of [':', '-', '_', 'x', '|']) {
      const kit = createRedisKit({ url, prefix: uniquePrefix('sep').replace(/[^A-Za-z0-9]/g, ''), separator, operationTimeout: 2000, logger: false });
      kits.push(kit);
      await kit.ready();
      const s = new SessionEngine(kit);
      for (const id of [newId(), 'a-b_c', `a${separator}b`, 'x'.repeat(200), 'ünï:{}']) {
        expect(await s.set(id, { n: 1 }, { ttl: HOUR })).toBe('created');
        expect(await admin.exists(kit.keys.entity('sess', id).key())).toBe(1);
        expect((await s.get(id))!['n']).toBe(1);
        await s.destroy(id);
        expect(await admin.exists(kit.keys.entity('sess', id).key('x'))).toBe(1);
        expect(await s.set(id, { n: 2 }, { ttl: HOUR })).toBe('refused');
      }
      // clear() leaves the same tombstones (it finds sessions by key, not by id)
      const id = newId();
      await s.set(id, { n: 1 }, { ttl: HOUR });
      expect(await s.clear()).toBe(1);
      expect(await s.set(id, { n: 2 }, { ttl: HOUR })).toBe('refused');
    }
  });
});

describe('touch', () => {
  it('extends the ttl and rewrites cookie.expires in the store', async () => {
    const s = await engine();
    const id = newId();
    const short = cookie(60_000);
    await s.set(id, { n: 1, cookie: short });
    const longer = cookie(HOUR);
    expect(await s.touch(id, { n: 1, cookie: longer })).toBe('touched');
    expect(await admin.pttl(keyOf(s, id))).toBeGreaterThan(HOUR * 0.99);
    const back = await s.get(id);
    expect((back!['cookie'] as { expires: Date }).expires.toISOString()).toBe(longer.expires.toISOString());
  });

  it('leaves the data alone (a concurrent save is not overwritten by a stale touch)', async () => {
    const s = await engine();
    const id = newId();
    await s.set(id, { n: 1, cookie: cookie(HOUR) });
    await s.set(id, { n: 2, cookie: cookie(HOUR) });
    await s.touch(id, { n: 1, cookie: cookie(HOUR) });
    expect((await s.get(id))!['n']).toBe(2);
  });

  it('after destroy does not resurrect the session', async () => {
    const s = await engine();
    const id = newId();
    await s.set(id, { n: 1, cookie: cookie(HOUR) });
    expect(await s.destroy(id)).toBe(true);
    expect(await s.touch(id, { n: 1, cookie: cookie(HOUR) })).toBe('missing');
    expect(await admin.exists(keyOf(s, id))).toBe(0);
    expect(await s.get(id)).toBeNull();
  });

  it('is skipped without a write when the stored expiry is recent enough (touchAfter)', async () => {
    const s = await engine({ touchAfter: 60_000 });
    const id = newId();
    await s.set(id, { n: 1, cookie: cookie(HOUR) });
    await s.get(id);
    expect(await s.touch(id, { n: 1, cookie: cookie(HOUR) })).toBe('skipped');
    // no read before it in this process: the touch writes
    expect(await s.touch(id, { n: 1, cookie: cookie(HOUR) })).toBe('touched');
  });

  it('skipTouch decides a fresh touch synchronously, once per read, and leaves every other case to touch()', async () => {
    const s = await engine({ touchAfter: 60_000 });
    const id = newId();
    await s.set(id, { n: 1, cookie: cookie(HOUR) });
    expect(s.skipTouch(id, { n: 1, cookie: cookie(HOUR) })).toBe(false); // nothing read yet
    await s.get(id);
    expect(s.skipTouch(id, { n: 1, cookie: cookie(0) })).toBe(false); // ttl 0: touch() deletes
    expect(s.skipTouch(id, { n: 1, cookie: cookie(HOUR + 120_000) })).toBe(false); // stale: touch() writes
    expect(s.skipTouch(id, { n: 1, cookie: cookie(HOUR) })).toBe(true);
    expect(s.skipTouch(id, { n: 1, cookie: cookie(HOUR) })).toBe(false); // the read's memo is used up
    expect(await s.touch(id, { n: 1, cookie: cookie(HOUR) })).toBe('touched');
    const bad = await engine({ touchAfter: 60_000, ttl: () => Number.NaN });
    await bad.set(id, { n: 1 }, { ttl: HOUR });
    await bad.get(id);
    expect(bad.skipTouch(id, { n: 1 })).toBe(false); // the ttl function fails: touch() reports it
    await expect(bad.touch(id, { n: 1 })).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_OPTION' });
  });

  it('never skips for more than half the lifetime (a short cookie maxAge with a long touchAfter)', async () => {
    const s = await engine({ touchAfter: 60_000 });
    const id = newId();
    await s.set(id, { n: 1, cookie: cookie(10_000) });
    await s.get(id);
    // the stored expiry is ~0 ms older than the new one: skipped
    expect(await s.touch(id, { n: 1, cookie: cookie(10_000) })).toBe('skipped');
    const stored = (await s.get(id))!['cookie'] as { expires: Date };
    await s.get(id);
    // as a request 6 s later sees it (more than half of the 10 s lifetime): it must write
    const later = { originalMaxAge: 10_000, expires: new Date(stored.expires.getTime() + 6_000) };
    expect(await s.touch(id, { n: 1, cookie: later }, { ttl: 10_000 })).toBe('touched');
  });
});

describe('destroy and the logout race', () => {
  it('refuses a save that arrives after the destroy (tombstone), and says so', async () => {
    const s = await engine();
    const refused = record(s.kit, 'session:save-refused');
    const destroyed = record(s.kit, 'session:destroyed');
    const id = newId();
    await s.set(id, { userId: 'u1', cookie: cookie(HOUR) });
    const loaded = await s.get(id); // the slow request loaded it
    await s.destroy(id); // logout
    expect(await s.set(id, { ...loaded!, n: 2 })).toBe('refused');
    expect(await s.get(id)).toBeNull();
    expect(await s.countSessions('u1')).toBe(0);
    expect(refused).toEqual([{ handle: s.handleOf(id) }]);
    expect(destroyed).toEqual([{ handle: s.handleOf(id), userId: 'u1', reason: 'destroy' }]);
  });

  it('lets the tombstone expire after tombstoneTtl', async () => {
    const s = await engine({ tombstoneTtl: 30 });
    const id = newId();
    await s.destroy(id);
    const tomb = s.kit.keys.entity('sess', id).key('x');
    expect(await admin.pttl(tomb)).toBeLessThanOrEqual(30);
    await waitFor('the tombstone to expire', async () => (await admin.exists(tomb)) === 0);
    expect(await s.set(id, { n: 1 })).toBe('created');
  });
});

describe('absolute lifetime', () => {
  it('ends an active session at creation + absoluteLifetime however often it is touched', async () => {
    const s = await engine({ absoluteLifetime: 400 });
    const id = newId();
    await s.set(id, { n: 1, cookie: cookie(HOUR) });
    const stored = await storedOf(s, id);
    expect(stored.deadline - stored.createdAt).toBe(400);
    // the idle ttl is an hour, the key's TTL is clamped to the deadline
    expect(await admin.pttl(keyOf(s, id))).toBeLessThanOrEqual(400);
    let touches = 0;
    await waitFor('the absolute deadline', async () => {
      const outcome = await s.touch(id, { n: 1, cookie: cookie(HOUR) });
      touches++;
      return outcome !== 'touched';
    });
    expect(touches).toBeGreaterThan(0);
    expect(await s.get(id)).toBeNull();
    expect(await s.set(id, { n: 2, cookie: cookie(HOUR) })).not.toBe('updated');
  });
});

describe('per-user index', () => {
  it('lists, counts and revokes one user without touching another; except keeps the current one', async () => {
    const s = await engine();
    const revokedEvents = record(s.kit, 'session:revoked');
    const alice = [newId(), newId(), newId()];
    const bob = [newId()];
    for (const id of alice) await s.set(id, { userId: 'alice', cookie: cookie(HOUR) });
    for (const id of bob) await s.set(id, { userId: 'bob', cookie: cookie(HOUR) });
    await s.set(newId(), { anonymous: true, cookie: cookie(HOUR) });

    const listed = await s.listSessions('alice', { current: alice[0] });
    expect(listed.map((x) => x.id).sort()).toEqual([...alice].sort());
    expect(listed.find((x) => x.current)?.id).toBe(alice[0]);
    expect(listed[0]!.data['userId']).toBe('alice');
    expect(listed[0]!.handle).toBe(s.handleOf(listed[0]!.id));
    expect(listed[0]!.expiresAt).toBeGreaterThan(listed[0]!.createdAt);
    expect(await s.countSessions('bob')).toBe(1);

    expect(await s.revokeSessions('alice', { except: alice[0] })).toBe(2);
    expect(revokedEvents).toEqual([{ userId: 'alice', revoked: 2, kept: 1 }]);
    expect(await s.get(alice[1]!)).toBeNull();
    expect(await s.get(alice[2]!)).toBeNull();
    expect(await s.get(alice[0]!)).not.toBeNull();
    expect(await s.get(bob[0]!)).not.toBeNull();
    expect(await s.countSessions('alice')).toBe(1);
    // a slow request of a revoked device cannot bring it back
    expect(await s.set(alice[1]!, { userId: 'alice', cookie: cookie(HOUR) })).toBe('refused');
  });

  it('revokes one session by its handle', async () => {
    const s = await engine();
    const [a, b] = [newId(), newId()];
    await s.set(a, { userId: 'carol', cookie: cookie(HOUR) });
    await s.set(b, { userId: 'carol', cookie: cookie(HOUR) });
    expect(await s.revokeSession('carol', s.handleOf(b))).toBe(true);
    expect(await s.revokeSession('carol', 'no-such-handle')).toBe(false);
    expect((await s.listSessions('carol')).map((x) => x.id)).toEqual([a]);
  });

  it('empties itself after the sessions expire and never lists a dead one', async () => {
    const s = await engine();
    const ids = [newId(), newId()];
    for (const id of ids) await s.set(id, { userId: 'dave' }, { ttl: 150 });
    const live = newId();
    await s.set(live, { userId: 'erin' }, { ttl: HOUR });
    const index = s.kit.keys.entity('sess.u', 'dave').key();
    expect(await admin.zcard(index)).toBe(2);
    await waitFor('the sessions to expire', async () => (await admin.exists(...ids.map((id) => keyOf(s, id)))) === 0);
    expect(await s.listSessions('dave')).toEqual([]);
    expect(await s.countSessions('dave')).toBe(0);
    // the dead entries were pruned on the way, and the index key itself has a TTL
    expect(await admin.zcard(index)).toBe(0);
    expect(await admin.exists(index)).toBe(0);
    expect(await admin.pttl(s.kit.keys.entity('sess.u', 'erin').key())).toBeGreaterThan(HOUR * 0.99);
  });

  it('keeps the index entry alive as long as a touched session (bound raised before the session is extended)', async () => {
    const s = await engine();
    const id = newId();
    await s.set(id, { userId: 'fay' }, { ttl: 1000 });
    const index = s.kit.keys.entity('sess.u', 'fay').key();
    const before = Number(await admin.zscore(index, id));
    await s.touch(id, { userId: 'fay' }, { ttl: 10 * HOUR });
    const after = Number(await admin.zscore(index, id));
    expect(after).toBeGreaterThan(before);
    expect(after).toBeGreaterThanOrEqual((await storedOf(s, id)).expiresAt);
    expect(await admin.pttl(index)).toBeGreaterThanOrEqual(10 * HOUR * 0.99);
  });

  it('moves a session to its new owner; the old owner no longer lists it', async () => {
    const s = await engine();
    const id = newId();
    await s.set(id, { userId: 'gus', cookie: cookie(HOUR) });
    await s.set(id, { userId: 'hal', cookie: cookie(HOUR) });
    expect(await s.countSessions('gus')).toBe(0);
    expect(await s.countSessions('hal')).toBe(1);
    expect(await s.revokeSessions('gus')).toBe(0);
    expect(await s.get(id)).not.toBeNull();
  });

  it('keeps owners with separators and multibyte characters intact', async () => {
    const s = await engine();
    const id = newId();
    const owner = 'ü:sér:{x}:名前';
    await s.set(id, { userId: owner, note: 'R1:0:0', cookie: cookie(HOUR) });
    expect((await s.get(id))!['note']).toBe('R1:0:0');
    expect((await s.listSessions(owner)).map((x) => [x.id, x.userId])).toEqual([[id, owner]]);
    expect(await s.touch(id, { userId: owner, cookie: cookie(2 * HOUR) })).toBe('touched');
    expect(await s.revokeSessions(owner)).toBe(1);
  });

  it('reads the owner from passport by default and can be switched off', async () => {
    const s = await engine();
    const id = newId();
    await s.set(id, { passport: { user: 42 }, cookie: cookie(HOUR) });
    expect(await s.countSessions(42)).toBe(1);

    const off = await engine({ userId: false });
    await expect(off.countSessions('x')).rejects.toMatchObject({ code: 'ERR_REDISKIT_SESSION_INDEX_DISABLED' });
  });
});

describe('encryption at rest', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32).toString('base64');

  it('stores no plaintext, reads back, and treats a tampered value as no session', async () => {
    const s = await engine({ encryption: { keys: [k1] } });
    const rejected = record(s.kit, 'session:rejected');
    const id = newId();
    await s.set(id, { secret: 'PLAINTEXT-MARKER', cookie: cookie(HOUR) });
    const raw = (await admin.getBuffer(keyOf(s, id)))!;
    expect(raw.includes(Buffer.from('PLAINTEXT-MARKER'))).toBe(false);
    expect((await s.get(id))!['secret']).toBe('PLAINTEXT-MARKER');

    const tampered = Buffer.from(raw);
    tampered[tampered.length - 20] ^= 0x01; // inside the sealed data, which ends the value
    await admin.set(keyOf(s, id), tampered, 'KEEPTTL');
    expect(await s.get(id)).toBeNull();
    expect(rejected).toEqual([{ handle: s.handleOf(id), reason: 'tampered' }]);
  });

  it('does not open a value copied into another session id', async () => {
    const s = await engine({ encryption: { keys: [k1] } });
    const [a, b] = [newId(), newId()];
    await s.set(a, { role: 'admin', cookie: cookie(HOUR) });
    await s.set(b, { role: 'guest', cookie: cookie(HOUR) });
    await admin.set(keyOf(s, b), (await admin.getBuffer(keyOf(s, a)))!, 'KEEPTTL');
    expect(await s.get(b)).toBeNull();
  });

  it('rotates: old values still read with the old key second; dropped keys read as no session', async () => {
    const prefix = uniquePrefix('rot');
    const old = await engine({ encryption: { keys: [k1] } }, prefix);
    const id = newId();
    await old.set(id, { v: 'old', cookie: cookie(HOUR) });

    const rotated = await engine({ encryption: { keys: [k2, k1] } }, prefix);
    expect((await rotated.get(id))!['v']).toBe('old');
    const fresh = newId();
    await rotated.set(fresh, { v: 'new', cookie: cookie(HOUR) });
    expect(await old.get(fresh)).toBeNull(); // sealed with the new key

    const dropped = await engine({ encryption: { keys: [k2] } }, prefix);
    const rejected = record(dropped.kit, 'session:rejected');
    expect(await dropped.get(id)).toBeNull();
    expect(rejected[0]?.reason).toBe('unknown-key');
    expect((await dropped.get(fresh))!['v']).toBe('new');
  });

  it('reads plaintext only when acceptPlaintext is on (migration)', async () => {
    const prefix = uniquePrefix('plain');
    const plain = await engine({}, prefix);
    const id = newId();
    await plain.set(id, { v: 1, cookie: cookie(HOUR) });
    expect(await (await engine({ encryption: { keys: [k1] } }, prefix)).get(id)).toBeNull();
    expect((await (await engine({ encryption: { keys: [k1], acceptPlaintext: true } }, prefix)).get(id))!['v']).toBe(1);
  });
});

describe('all / ids / length / clear', () => {
  it('see only this prefix and namespace, count each session once, and clear with tombstones', async () => {
    const s = await engine();
    const other = await engine(); // another prefix on the same Redis
    const sameKitOtherNs = new SessionEngine(s.kit, { namespace: 'admin' });
    const ids = [newId(), newId(), newId()];
    for (const id of ids) await s.set(id, { id, userId: 'ivy', cookie: cookie(HOUR) });
    await other.set(newId(), { n: 1 });
    await sameKitOtherNs.set(newId(), { n: 1 });
    await s.destroy(ids[2]!); // leaves a tombstone, which is not a session
    const long = 'L'.repeat(300); // hashed in the key; ids() still returns it
    await s.set(long, { n: 1 });

    expect((await s.ids()).sort()).toEqual([ids[0], ids[1], long].sort());
    expect(await s.length()).toBe(3);
    const all = await s.all();
    expect(all.map((x) => x.id).sort()).toEqual([ids[0], ids[1], long].sort());
    expect(all.find((x) => x.id === ids[0])!.session['id']).toBe(ids[0]);

    expect(await s.clear()).toBe(3);
    expect(await s.length()).toBe(0);
    expect(await s.countSessions('ivy')).toBe(0);
    expect(await s.set(ids[0]!, { userId: 'ivy' })).toBe('refused');
    expect(await other.length()).toBe(1);
    expect(await sameKitOtherNs.length()).toBe(1);
  });
});

describe('options', () => {
  it('reject bad configuration with coded errors at construction', async () => {
    const kit = createRedisKit({ url, prefix: uniquePrefix(), logger: false });
    kits.push(kit);
    const code = (options: unknown) => {
      try {
        new SessionEngine(kit, options as SessionOptions);
        return 'ok';
      } catch (error) {
        return isRedisKitError(error) ? error.code : String(error);
      }
    };
    expect(code({})).toBe('ok');
    expect(code({ ttl: 0 })).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code({ ttl: 'long' })).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code({ absoluteLifetime: -1 })).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code({ userId: 'userId' })).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code({ serializer: JSON })).toBe('ok');
    expect(code({ serializer: {} })).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code({ encryption: { keys: [] } })).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code({ encryption: { keys: ['too short'] } })).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code({ encryption: { keys: [randomBytes(16)] } })).toBe('ERR_REDISKIT_INVALID_OPTION');
    const k = randomBytes(32);
    expect(code({ encryption: { keys: [k, k.toString('hex')] } })).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code({ encryption: { keys: [k], acceptPlaintxt: true } })).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(code({ failPolicy: 'maybe' })).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code({ namespace: 'a:b' })).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code({ touchAfter: 86_400_000 })).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code({ tombstonTtl: 5 })).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(code({ ttl: () => 5 })).toBe('ok');
  });
});
