import { randomUUID } from 'node:crypto';
import { structures, type RedisKit } from '@rediskit/core';
import { getRedisKit } from '@rediskit/express';
import type { Request, Response } from 'express';
import type { DemoFeature } from './types';

// Every structure is looked up by name from the request's context; the
// registry returns the same instance each time.
const pageViews = (kit: RedisKit) => ({
  total: structures(kit).counter({ name: 'page-views' }),
  recent: structures(kit).windowedCounter({ name: 'page-views', window: 5 * 60_000, buckets: 60 }),
  uniques: structures(kit).uniqueCounter({ name: 'page-visitors', period: 'day', retain: 7 }),
});
const arcade = (kit: RedisKit) => structures(kit).leaderboard({ name: 'arcade', period: 'day', retain: 7 });

/** The visitor id from the `rk_visitor` cookie, set on first visit. */
function visitor(req: Request, res: Response): string {
  const match = /(?:^|;\s*)rk_visitor=([\w-]{1,64})/.exec(req.headers.cookie ?? '');
  if (match) return match[1]!;
  const id = randomUUID();
  res.cookie('rk_visitor', id, { httpOnly: true, sameSite: 'lax', maxAge: 365 * 86_400_000 });
  return id;
}

async function pageStats(kit: RedisKit, page: string) {
  const v = pageViews(kit);
  const [total, recent, today, week] = await Promise.all([
    v.total.get(page),
    v.recent.read(page),
    v.uniques.read(page),
    v.uniques.count(page, { periods: 7 }),
  ]);
  return {
    page,
    views: total,
    viewsLast5Minutes: recent.count,
    // The exact count lies in [lower, upper]; see docs/structures.md.
    viewsLast5MinutesBounds: [recent.lower, recent.upper],
    uniqueVisitorsToday: today.count,
    day: today.periods[0],
    uniqueVisitorsLast7Days: week,
  };
}

/** Page-view counter (total, last 5 minutes, daily uniques) and a daily/weekly leaderboard. */
export const structuresFeature: DemoFeature = {
  name: 'Counters, windows, leaderboards',
  routes: [
    {
      method: 'GET',
      path: '/pages/:page',
      description: 'Counts a view: total, views in the last 5 minutes, unique visitors today and over 7 days (cookie rk_visitor)',
      curl: 'curl -s -c /tmp/rk-cookies -b /tmp/rk-cookies localhost:$PORT/pages/home',
    },
    {
      method: 'GET',
      path: '/pages/:page/stats',
      description: 'The same numbers without counting a view',
      curl: 'curl -s localhost:$PORT/pages/home/stats',
    },
    {
      method: 'POST',
      path: '/leaderboard/:player?points=N',
      description: "Adds points to the player's score on today's board (UTC days, Redis clock)",
      curl: "curl -s -X POST 'localhost:$PORT/leaderboard/alice?points=30'",
    },
    {
      method: 'GET',
      path: '/leaderboard?player=P',
      description: "Today's top 10, this week's (the last 7 daily boards combined) and the player's rank and neighbours",
      curl: "curl -s 'localhost:$PORT/leaderboard?player=alice'",
    },
  ],
  mount(app) {
    app.get('/pages/:page', async (req, res) => {
      const kit = getRedisKit(req);
      const v = pageViews(kit);
      const page = req.params.page;
      const who = visitor(req, res);
      // Writes fail open (a lost view is better than a failed page); reads
      // fail closed, so an outage shows as 503, never as "0 views".
      await Promise.all([v.total.incr(page), v.recent.incr(page), v.uniques.add(page, who)]);
      try {
        res.json(await pageStats(kit, page));
      } catch (error) {
        res.status(503).json({ error: (error as { code?: string }).code ?? String(error) });
      }
    });
    app.get('/pages/:page/stats', async (req, res) => {
      try {
        res.json(await pageStats(getRedisKit(req), req.params.page));
      } catch (error) {
        res.status(503).json({ error: (error as { code?: string }).code ?? String(error) });
      }
    });
    app.post('/leaderboard/:player', async (req, res) => {
      const points = Number(req.query.points ?? 1);
      if (!Number.isFinite(points)) {
        res.status(400).json({ error: 'points must be a number' });
        return;
      }
      try {
        res.json(await arcade(getRedisKit(req)).increment(req.params.player, points));
      } catch (error) {
        const code = (error as { code?: string }).code;
        res.status(code === 'ERR_REDISKIT_INVALID_ARGUMENT' ? 400 : 503).json({ error: code ?? String(error) });
      }
    });
    app.get('/leaderboard', async (req, res) => {
      const board = arcade(getRedisKit(req));
      const week = board.combined({ periods: 7 });
      const player = typeof req.query.player === 'string' && req.query.player ? req.query.player : undefined;
      try {
        const [today, thisWeek, yesterday] = await Promise.all([board.top(10), week.top(10), board.top(3, { ago: 1 })]);
        res.json({
          today,
          last7Days: thisWeek,
          yesterdayPodium: yesterday,
          ...(player
            ? {
                player: {
                  name: player,
                  rankToday: await board.rank(player),
                  rankLast7Days: await week.rank(player),
                  aroundToday: await board.around(player, 2),
                },
              }
            : {}),
        });
      } catch (error) {
        res.status(503).json({ error: (error as { code?: string }).code ?? String(error) });
      }
    });
  },
  async panel(kit) {
    const stats = await pageStats(kit, 'home');
    const top = await arcade(kit).top(3);
    return {
      'home: views': stats.views,
      'home: views in the last 5 minutes': stats.viewsLast5Minutes,
      'home: unique visitors today': stats.uniqueVisitorsToday,
      'home: unique visitors, 7 days': stats.uniqueVisitorsLast7Days,
      'arcade: today': top.map((e) => `${e.rank}. ${e.member} ${e.score}`).join(', ') || '(no scores yet)',
    };
  },
};
