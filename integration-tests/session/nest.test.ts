import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import { createRedisKit, type RedisKit } from '@rediskit/core';
import { RedisKitModule, RedisSessionService } from '@rediskit/nestjs';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import { createNestApp } from '../harness';

// The shared behaviour suite runs a Nest app end to end; this covers the
// module side: the `session` options and injecting the service.
describe('RedisSessionService', () => {
  let kit: RedisKit;
  beforeAll(async () => {
    kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('nest-sess'), operationTimeout: 2000, logger: false });
    await kit.ready();
  });
  afterAll(() => kit.close());

  @Injectable()
  class AccountService {
    constructor(@Inject(RedisSessionService) readonly sessions: RedisSessionService) {}
  }

  it('is injectable and configured by RedisKitModule.forRoot({ session })', async () => {
    const app = await createNestApp({
      imports: [RedisKitModule.forRoot({ kit, session: { namespace: 'nest', userId: (s) => s['accountId'] as string } })],
      providers: [AccountService],
    });
    try {
      const sessions = app.get(AccountService).sessions;
      expect(sessions.engine.options.namespace).toBe('nest');
      await sessions.engine.set('n1', { accountId: 'acct-1' }, { ttl: 60_000 });
      await sessions.engine.set('n2', { accountId: 'acct-1' }, { ttl: 60_000 });
      expect(await sessions.countSessions('acct-1')).toBe(2);
      expect(await sessions.revokeSessions('acct-1', { except: 'n1' })).toBe(1);
      expect((await sessions.listSessions('acct-1', { current: 'n1' })).map((s) => [s.id, s.current])).toEqual([['n1', true]]);
      expect(await sessions.destroy('n1')).toBe(true);
      expect(await sessions.get('n1')).toBeNull();
    } finally {
      await app.close();
    }
  });

  it('fails at startup with a coded error on bad session options', async () => {
    await expect(createNestApp({ imports: [RedisKitModule.forRoot({ kit, session: { ttl: -1 } })] })).rejects.toMatchObject({
      code: 'ERR_REDISKIT_INVALID_OPTION',
    });
  });
});
