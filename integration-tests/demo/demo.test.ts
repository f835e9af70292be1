import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedisKit, type RedisKit } from '@rediskit/core';
import { attachRedisKit } from '@rediskit/express';
import { sharedRedisUrl, uniquePrefix } from '@rediskit/testing';
import express from 'express';
import request from 'supertest';
import { features } from '../../examples/src/features';
import { rateLimitFeature } from '../../examples/src/features/rate-limit';
import { sessionFeature } from '../../examples/src/features/session';

// `npm start` runs this demo; these tests keep its listed routes reachable.
describe('the demo', () => {
  it('lists each method and path once, so no feature shadows another', () => {
    const routes = features.flatMap((f) => f.routes.map((r) => `${r.method} ${r.path}`));
    expect(routes.filter((r, i) => routes.indexOf(r) !== i)).toEqual([]);
  });

  describe('sessions beside the rate-limited sign-in', () => {
    let kit: RedisKit;
    let app: express.Express;
    beforeAll(async () => {
      kit = createRedisKit({ url: await sharedRedisUrl(), prefix: uniquePrefix('demo'), operationTimeout: 2000 });
      await kit.ready();
      app = express();
      app.use(express.json());
      attachRedisKit(app, kit);
      // Mounted in the demo's order: rate limiting comes first.
      for (const f of features.filter((f) => f === rateLimitFeature || f === sessionFeature)) await f.mount(app, kit);
    });
    afterAll(() => kit.close());

    it('logs in with POST /login, lists the session, and logs out', async () => {
      const agent = request.agent(app);
      await agent.post('/login').send({ user: 'alice' }).expect(200);
      expect((await agent.get('/me').expect(200)).body).toMatchObject({ user: 'alice' });
      const listed = await agent.get('/sessions').expect(200);
      expect(JSON.stringify(listed.body)).toContain('alice');
      await agent.post('/logout').expect(200);
      expect((await agent.get('/me').expect(200)).body).toMatchObject({ user: null });
    });

    it('limits POST /signin per username: the fourth try in 5 minutes gets 429', async () => {
      const user = `u${Date.now()}`;
      for (let i = 0; i < 3; i++) await request(app).post('/signin').send({ username: user }).expect(200);
      const limited = await request(app).post('/signin').send({ username: user }).expect(429);
      expect(limited.headers['content-type']).toContain('application/problem+json');
    });
  });
});
