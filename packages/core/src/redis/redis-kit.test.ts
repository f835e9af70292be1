import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { sharedRedisUrl, startRedis, uniquePrefix, waitFor, type StartedRedis } from '@rediskit/testing';
import { isRedisKitError, RedisKitError } from '../errors';
import { LUA } from '../generated/lua';
import { createRedisKit, type RedisKit } from './redis-kit';
import { defineScript } from './script';
import type { RedisKitLogger } from './logger';

function recordingLogger(): RedisKitLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    info: (m) => lines.push(`info ${m}`),
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (error) {
    return isRedisKitError(error) ? error.code : `not coded: ${String(error)}`;
  }
}

const kits: RedisKit[] = [];
function kitFor(options: Parameters<typeof createRedisKit>[0]): RedisKit {
  const kit = createRedisKit({ logger: recordingLogger(), ...options });
  kits.push(kit);
  return kit;
}
afterEach(async () => {
  await Promise.all(kits.splice(0).map((k) => k.close()));
});

describe('createRedisKit options', () => {
  it('throws coded errors for bad configuration', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
        return 'no error';
      } catch (error) {
        return (error as RedisKitError).code;
      }
    };
    expect(code(() => createRedisKit({}))).toBe('ERR_REDISKIT_NO_CONNECTION');
    expect(code(() => createRedisKit({ url: 'redis://x', cluster: { nodes: ['x:1'] } }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => createRedisKit({ url: 'http://localhost' }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => createRedisKit({ url: 'redis://x', operationTimeout: 0 }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => createRedisKit({ url: 'redis://x', prefix: 'a{b}' }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => createRedisKit({ url: 'redis://x', operationTimout: 5 } as never))).toBe('ERR_REDISKIT_UNKNOWN_OPTION');
    expect(code(() => createRedisKit({ sentinel: { sentinels: [], name: 'm' } }))).toBe('ERR_REDISKIT_INVALID_OPTION');
    expect(code(() => createRedisKit({ url: 'redis://x', logger: {} as never }))).toBe('ERR_REDISKIT_INVALID_OPTION');
  });

  it('freezes the resolved options with their defaults', async () => {
    const kit = kitFor({ url: await sharedRedisUrl(), prefix: uniquePrefix() });
    expect(kit.options.operationTimeout).toBe(100);
    expect(kit.options.separator).toBe(':');
    expect(Object.isFrozen(kit.options)).toBe(true);
  });
});

describe('scripts', () => {
  let kit: RedisKit;
  let admin: Redis;
  beforeAll(async () => {
    admin = new Redis(await sharedRedisUrl());
  });
  afterAll(() => admin.disconnect());

  it('keep working after SCRIPT FLUSH between two calls', async () => {
    kit = kitFor({ url: await sharedRedisUrl(), prefix: uniquePrefix() });
    await kit.ready();
    const incr = defineScript<number>({
      name: 'testIncr',
      numberOfKeys: 1,
      lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
    });
    const key = kit.keys.key('counter');
    expect(await incr.run(kit, [key], [2])).toBe(2);
    await admin.script('FLUSH');
    expect(await incr.run(kit, [key], [3])).toBe(5);
    const [now, count] = (await defineScript<[number, number]>(LUA.serverTime).run(kit, [key])) as [number, number];
    expect(count).toBe(1);
    expect(Math.abs(now - (await kit.time()))).toBeLessThan(60_000);
  });

  it('do not retry an error other than NOSCRIPT', async () => {
    kit = kitFor({ url: await sharedRedisUrl(), prefix: uniquePrefix() });
    await kit.ready();
    const failing = defineScript({
      name: 'testFails',
      numberOfKeys: 1,
      lua: "redis.call('INCR', KEYS[1]); return redis.error_reply('ERR boom')",
    });
    const key = kit.keys.key('runs');
    expect(await codeOf(failing.run(kit, [key]))).toBe('ERR_REDISKIT_SCRIPT');
    // Once more after a flush: the NOSCRIPT fallback runs it once, the error is not retried.
    await admin.script('FLUSH');
    expect(await codeOf(failing.run(kit, [key]))).toBe('ERR_REDISKIT_SCRIPT');
    expect(await admin.get(key)).toBe('2');
  });

  it('refuse keys from different hash slots before sending', async () => {
    kit = kitFor({ url: await sharedRedisUrl(), prefix: uniquePrefix() });
    await kit.ready();
    const two = defineScript({ name: 'testTwo', numberOfKeys: 2, lua: 'return 1' });
    await expect(two.run(kit, [kit.keys.key('a'), kit.keys.key('b')])).rejects.toMatchObject({
      code: 'ERR_REDISKIT_CROSS_SLOT',
    });
    const e = kit.keys.entity('x', 'y');
    expect(await two.run(kit, [e.key('a'), e.key('b')])).toBe(1);
    await expect(two.run(kit, [e.key('a')])).rejects.toMatchObject({ code: 'ERR_REDISKIT_INVALID_OPTION' });
  });
});

describe('exec with coalesce', () => {
  it('sends the commands of one event-loop turn in one write, in order, and uncorks after the turn', async () => {
    const kit = kitFor({ url: await sharedRedisUrl(), prefix: uniquePrefix() });
    await kit.ready();
    const stream = (kit.redis as Redis).stream;
    const key = kit.keys.key('n');
    const first = kit.exec((r) => r.incr(key)); // coalescing is the default
    const second = kit.exec((r) => r.incr(key), { coalesce: true });
    expect(stream.writableCorked).toBe(1); // corked once per turn
    expect(stream.writableLength).toBeGreaterThan(0); // nothing written yet
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(stream.writableCorked).toBe(0);
    expect(stream.writableLength).toBe(0);
    expect(await kit.exec((r) => r.incr(key))).toBe(3); // a later turn corks again
  });

  it('writes at once with coalesce: false, unless the turn has already corked the connection (order is kept)', async () => {
    const kit = kitFor({ url: await sharedRedisUrl(), prefix: uniquePrefix() });
    await kit.ready();
    const stream = (kit.redis as Redis).stream;
    const key = kit.keys.key('n');
    const direct = kit.exec((r) => r.incr(key), { coalesce: false });
    expect(stream.writableCorked).toBe(0);
    expect(await direct).toBe(1);
    const corked = kit.exec((r) => r.incr(key));
    const behind = kit.exec((r) => r.incr(key), { coalesce: false }); // same connection: held back too
    expect(stream.writableCorked).toBe(1);
    expect(await Promise.all([corked, behind])).toEqual([2, 3]);
  });

  it('keeps the operation timeout and the fail-fast rules', async () => {
    const kit = kitFor({ url: await sharedRedisUrl(), prefix: uniquePrefix(), operationTimeout: 50 });
    await kit.ready();
    expect(await codeOf(kit.exec((r) => r.blpop(kit.keys.key('never'), 1), { coalesce: true }))).toBe('ERR_REDISKIT_TIMEOUT');
    await kit.close();
    expect(await codeOf(kit.exec((r) => r.get('x'), { coalesce: true }))).toBe('ERR_REDISKIT_CLOSED');
  });
});

describe('when Redis stops', () => {
  let server: StartedRedis;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server.stop());

  it('fails fast with a coded error, then recovers without a restart of the app', async () => {
    const kit = kitFor({ url: server.url, prefix: uniquePrefix() });
    await kit.ready();
    const key = kit.keys.key('k');
    await kit.exec((r) => r.set(key, 'v'));
    const states: string[] = [];
    kit.events.on('degraded', ({ reason }) => states.push(`degraded:${reason}`));
    kit.events.on('ready', () => states.push('ready'));

    await server.kill();
    await waitFor('the context to notice', async () => kit.state === 'degraded');
    const results = await Promise.all(Array.from({ length: 50 }, () => codeOf(kit.exec((r) => r.get(key)))));
    expect(new Set(results)).toEqual(new Set(['ERR_REDISKIT_UNAVAILABLE']));

    await server.restart();
    await waitFor('operations to succeed again', async () => (await codeOf(kit.exec((r) => r.ping()))) === 'resolved');
    expect(kit.state).toBe('ready');
    expect(states).toEqual(['degraded:connection-lost', 'ready']);
  });

  it('applies the fail policy: open returns the fallback, closed throws, both emit store-error', async () => {
    const kit = kitFor({ url: server.url, prefix: uniquePrefix() });
    await kit.ready();
    const errors: string[] = [];
    const recovered: number[] = [];
    kit.events.on('store-error', ({ feature, policy, error }) => errors.push(`${feature}/${policy}/${error.code}`));
    kit.events.on('recovered', ({ failures }) => recovered.push(failures));
    await server.kill();
    await waitFor('the context to notice', async () => kit.state === 'degraded');
    expect(await kit.guard('demo', 'get', 'open', (r) => r.get('x'), () => 'fallback')).toBe('fallback');
    expect(await codeOf(kit.guard('demo', 'get', 'closed', (r) => r.get('x'), () => 'fallback'))).toBe(
      'ERR_REDISKIT_UNAVAILABLE',
    );
    expect(errors).toEqual(['demo/open/ERR_REDISKIT_UNAVAILABLE', 'demo/closed/ERR_REDISKIT_UNAVAILABLE']);
    await server.restart();
    await waitFor('recovery', async () => (await kit.attempt('demo', 'ping', 'open', (r) => r.ping())).ok);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toBeGreaterThanOrEqual(2);
    // The outage was logged once for the feature, not once per request.
    const logger = (kit as unknown as { logger: { lines: string[] } }).logger;
    expect(logger.lines.filter((l) => l.startsWith('error demo:'))).toHaveLength(1);
  });

  it('times out on a Redis that stops answering, degrades, and recovers when it answers again', async () => {
    const kit = kitFor({ url: server.url, prefix: uniquePrefix(), operationTimeout: 50, degradeAfterTimeouts: 3, healthCheckInterval: 50 });
    await kit.ready();
    server.process.pause();
    try {
      const first = await Promise.all(Array.from({ length: 3 }, () => codeOf(kit.exec((r) => r.ping()))));
      expect(first).toEqual(['ERR_REDISKIT_TIMEOUT', 'ERR_REDISKIT_TIMEOUT', 'ERR_REDISKIT_TIMEOUT']);
      expect(kit.state).toBe('degraded');
      // Degraded: nothing more is sent or queued; callers get an answer at once.
      expect(await codeOf(kit.exec((r) => r.ping()))).toBe('ERR_REDISKIT_UNAVAILABLE');
    } finally {
      server.process.resume();
    }
    await waitFor('recovery after resume', async () => (await codeOf(kit.exec((r) => r.ping()))) === 'resolved');
    expect(kit.state).toBe('ready');
  });

  it('does not count an answer that comes after its timeout as a success', async () => {
    const kit = kitFor({ url: server.url, prefix: uniquePrefix(), operationTimeout: 50, degradeAfterTimeouts: 2, healthCheckInterval: 50 });
    await kit.ready();
    let late: Promise<unknown> | undefined;
    server.process.pause();
    try {
      expect(await codeOf(kit.exec((r) => (late = r.ping())))).toBe('ERR_REDISKIT_TIMEOUT');
    } finally {
      server.process.resume();
    }
    // The reply arrives now, after the timeout: the streak of timeouts stays at one.
    await late;
    server.process.pause();
    try {
      expect(await codeOf(kit.exec((r) => r.ping()))).toBe('ERR_REDISKIT_TIMEOUT');
      expect(kit.state).toBe('degraded');
    } finally {
      server.process.resume();
    }
    await waitFor('recovery after resume', async () => (await codeOf(kit.exec((r) => r.ping()))) === 'resolved');
  });
});

describe('a Redis that accepts connections and never answers', () => {
  let silent: Server;
  let port: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    port = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => silent.close(r));
  });

  it('gets a coded error at once from a context that opened the connection', async () => {
    const kit = kitFor({ url: `redis://127.0.0.1:${port}`, prefix: uniquePrefix() });
    const results = await Promise.all(Array.from({ length: 20 }, () => codeOf(kit.exec((r) => r.get('x')))));
    expect(new Set(results)).toEqual(new Set(['ERR_REDISKIT_UNAVAILABLE']));
    expect(kit.state).toBe('connecting');
  });

  it('never waits in the offline queue of a wrapped client', async () => {
    // A default ioredis client queues commands while connecting; rediskit must not.
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
    client.on('error', () => {});
    const kit = kitFor({ client, prefix: uniquePrefix() });
    expect(await codeOf(kit.exec((r) => r.get('x')))).toBe('ERR_REDISKIT_UNAVAILABLE');
    await kit.close();
    expect(client.status).not.toBe('end');
    client.disconnect();
  });
});

describe('wrapping an existing client', () => {
  it('uses it, and close() leaves it open', async () => {
    const client = new Redis(await sharedRedisUrl());
    const kit = kitFor({ client, prefix: uniquePrefix() });
    await kit.ready();
    expect(kit.ownsConnection).toBe(false);
    await kit.exec((r) => r.set(kit.keys.key('w'), '1', 'PX', 10_000));
    await kit.close();
    expect(await client.get(kit.keys.key('w'))).toBe('1');
    await expect(kit.exec((r) => r.ping())).rejects.toMatchObject({ code: 'ERR_REDISKIT_CLOSED' });
    client.disconnect();
  });

  it('warns when the client has a keyPrefix of its own', async () => {
    const client = new Redis(await sharedRedisUrl(), { keyPrefix: 'other:', lazyConnect: true });
    const logger = recordingLogger();
    kitFor({ client, logger, prefix: uniquePrefix() });
    expect(logger.lines.some((l) => l.includes('clientKeyPrefix'))).toBe(true);
    client.disconnect();
  });
});

describe('eviction policy advisory', () => {
  let lru: StartedRedis;
  beforeAll(async () => {
    lru = await startRedis({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] });
  });
  afterAll(() => lru.stop());

  it('warns once when Redis may evict keys that must not vanish', async () => {
    const logger = recordingLogger();
    const advisories: string[] = [];
    const kit = kitFor({ url: lru.url, logger, prefix: uniquePrefix() });
    kit.events.on('advisory', ({ name }) => advisories.push(name));
    await kit.ready();
    await waitFor('the advisory', async () => advisories.length > 0);
    await kit.checkEvictionPolicy();
    expect(advisories).toEqual(['evictionPolicy']);
    expect(logger.lines.filter((l) => l.includes('maxmemory-policy "allkeys-lru"'))).toHaveLength(1);
  });

  it('can be switched off by name', async () => {
    const logger = recordingLogger();
    const kit = kitFor({ url: lru.url, logger, prefix: uniquePrefix(), validations: { evictionPolicy: false } });
    await kit.ready();
    expect(await kit.checkEvictionPolicy()).toEqual([]);
    expect(logger.lines.filter((l) => l.includes('maxmemory-policy'))).toHaveLength(0);
  });

  it('stays quiet on noeviction', async () => {
    const logger = recordingLogger();
    const kit = kitFor({ url: await sharedRedisUrl(), logger, prefix: uniquePrefix() });
    await kit.ready();
    const seen = await kit.checkEvictionPolicy();
    expect(seen[0]?.policy).toBe('noeviction');
    expect(logger.lines.filter((l) => l.includes('maxmemory-policy'))).toHaveLength(0);
  });
});

describe('events', () => {
  it('keep a throwing listener from breaking the emitter', async () => {
    const kit = kitFor({ url: await sharedRedisUrl(), prefix: uniquePrefix() });
    const seen: string[] = [];
    kit.events.on('advisory', () => {
      throw new Error('listener bug');
    });
    kit.events.onAny((name) => seen.push(name));
    kit.events.emit('advisory', { name: 'x', message: 'y' });
    expect(seen).toEqual(['advisory']);
  });
});

describe('scan', () => {
  it('yields every key under a prefix once', async () => {
    const kit = kitFor({ url: await sharedRedisUrl(), prefix: uniquePrefix() });
    await kit.ready();
    const keys = Array.from({ length: 120 }, (_, i) => kit.keys.key('s', `k*${i}`));
    await kit.exec((r) => r.mset(...keys.flatMap((k) => [k, '1'])), { timeout: 2000 });
    const found: string[] = [];
    for await (const k of kit.scan(kit.keys.pattern('s'), { count: 17 })) found.push(k);
    expect(found.sort()).toEqual([...keys].sort());
    await kit.exec((r) => r.del(...keys), { timeout: 2000 });
  });
});

it('RedisKitError carries code, cause and a docs link', () => {
  const cause = new Error('root');
  const e = new RedisKitError('ERR_REDISKIT_TIMEOUT', undefined, { cause });
  expect(e.code).toBe('ERR_REDISKIT_TIMEOUT');
  expect(e.cause).toBe(cause);
  expect(e.docs).toMatch(/errors\.md#err-rediskit-timeout$/);
  expect(isRedisKitError(e, 'ERR_REDISKIT_TIMEOUT')).toBe(true);
  expect(isRedisKitError(new Error('x'))).toBe(false);
});
