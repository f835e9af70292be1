import { describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import { waitFor } from '@rediskit/testing';
import { captureResponse, type CaptureAbandonReason, type CapturedResponse } from './response-capture';

type Outcome = { captured?: CapturedResponse; abandoned?: CaptureAbandonReason; storedBeforeClientSawEnd?: boolean };

function capturing(outcome: Outcome, opts: { maxBytes?: number; onHead?: (s: number) => boolean; delay?: number } = {}) {
  return (res: ServerResponse) =>
    captureResponse(res, {
      maxBytes: opts.maxBytes ?? 4 << 20,
      timeout: 2000,
      onHead: opts.onHead ? (s) => opts.onHead!(s) : undefined,
      onEnd: async (c) => {
        await new Promise((r) => setTimeout(r, opts.delay ?? 0));
        outcome.captured = c;
      },
      onAbandon: (reason) => {
        outcome.abandoned = reason;
      },
    });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('captureResponse', () => {
  it('captures res.write + res.end with binary bytes exactly, across many writes', async () => {
    const outcome: Outcome = {};
    const body = randomBytes(1 << 20);
    const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      capturing(outcome)(res);
      res.setHeader('content-type', 'application/octet-stream');
      for (let i = 0; i < body.length; i += 65_536) res.write(body.subarray(i, i + 65_536));
      res.end();
    });
    const r = await request(server).get('/').buffer(true).parse((res, cb) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => cb(null, Buffer.concat(parts)));
    });
    expect(sha(r.body as Buffer)).toBe(sha(body));
    expect(sha(outcome.captured!.body)).toBe(sha(body));
  });

  it('holds the end of the response until onEnd has finished', async () => {
    const outcome: Outcome = {};
    const app = express();
    app.get('/', (_req, res) => {
      capturing(outcome, { delay: 150 })(res);
      res.send('hello');
    });
    const r = await request(app).get('/');
    // The client has the whole response only once the store step completed.
    expect(outcome.captured?.body.toString()).toBe('hello');
    expect(r.text).toBe('hello');
  });

  it('keeps multi-valued headers in order and sees headers given to writeHead', async () => {
    const outcome: Outcome = {};
    const server = createServer((_req, res) => {
      capturing(outcome)(res);
      res.setHeader('x-multi', ['a', 'b']);
      res.writeHead(201, 'Made', { 'Content-Type': 'text/plain', Link: ['<x>', '<y>'] });
      res.end('done');
    });
    const r = await request(server).get('/');
    expect(r.status).toBe(201);
    expect(r.headers.link).toBe('<x>, <y>');
    const c = outcome.captured!;
    expect(c.status).toBe(201);
    expect(c.headers.filter(([n]) => n === 'x-multi').map(([, v]) => v)).toEqual(['a', 'b']);
    expect(c.headers.filter(([n]) => n === 'link').map(([, v]) => v)).toEqual(['<x>', '<y>']);
    expect(c.headers).toContainEqual(['content-type', 'text/plain']);
  });

  it('captures a stream piped into the response', async () => {
    const outcome: Outcome = {};
    const app = express();
    app.get('/', (_req, res) => {
      capturing(outcome)(res);
      res.type('text/plain');
      Readable.from(['a', 'b', 'c']).pipe(res);
    });
    expect((await request(app).get('/')).text).toBe('abc');
    expect(outcome.captured!.body.toString()).toBe('abc');
  });

  it('captures Koa bodies: string, JSON, Buffer and stream', async () => {
    const bodies: Record<string, unknown> = {
      '/s': 'text',
      '/j': { a: 1, b: [true] },
      '/b': Buffer.from([0, 1, 2, 255]),
    };
    for (const [path, body] of Object.entries(bodies)) {
      const outcome: Outcome = {};
      const app = new Koa();
      app.use(async (ctx) => {
        capturing(outcome)(ctx.res);
        ctx.body = body;
      });
      const r = await request(app.callback()).get(path).buffer(true);
      const expected = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      expect(outcome.captured!.body.equals(expected)).toBe(true);
      expect(r.status).toBe(200);
    }
    const outcome: Outcome = {};
    const app = new Koa();
    app.use(async (ctx) => {
      capturing(outcome)(ctx.res);
      ctx.type = 'text/plain';
      ctx.body = Readable.from(['x', 'y']);
    });
    expect((await request(app.callback()).get('/')).text).toBe('xy');
    expect(outcome.captured!.body.toString()).toBe('xy');
  });

  it('stops buffering past maxBytes and lets the response through whole', async () => {
    const outcome: Outcome = {};
    const body = randomBytes(300_000);
    const server = createServer((_req, res) => {
      capturing(outcome, { maxBytes: 100_000 })(res);
      for (let i = 0; i < body.length; i += 50_000) res.write(body.subarray(i, i + 50_000));
      res.end();
    });
    const r = await request(server).get('/').buffer(true).parse((res, cb) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => cb(null, Buffer.concat(parts)));
    });
    expect((r.body as Buffer).equals(body)).toBe(true);
    expect(outcome.abandoned).toBe('too-large');
    expect(outcome.captured).toBeUndefined();
  });

  it('buffers nothing when onHead declines', async () => {
    const outcome: Outcome = {};
    const app = express();
    app.get('/', (_req, res) => {
      capturing(outcome, { onHead: (s) => s === 200 })(res);
      res.status(500).send('boom');
    });
    await request(app).get('/').expect(500, 'boom');
    expect(outcome.abandoned).toBe('not-captured');
    expect(outcome.captured).toBeUndefined();
  });
  it('replaces a response the hook rejects with another one, whatever the app wrote', async () => {
    const stored: CapturedResponse = {
      status: 200,
      headers: [['content-type', 'text/plain'], ['x-stored', 'yes']],
      body: Buffer.from('stored copy'),
    };
    const outcome: Outcome = {};
    const app = express();
    app.get('/', (_req, res, next) => {
      captureResponse(res, {
        maxBytes: 1 << 20,
        timeout: 1000,
        onHead: (status) => (status >= 500 ? { replaceWith: stored } : true),
        onEnd: (c) => {
          outcome.captured = c;
        },
        onAbandon: (reason) => {
          outcome.abandoned = reason;
        },
      });
      next(new Error('origin down'));
    });
    app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(503).set('x-origin', 'error').json({ error: 'down' });
    });
    const r = await request(app).get('/');
    expect(r.status).toBe(200);
    expect(r.text).toBe('stored copy');
    expect(r.headers['x-stored']).toBe('yes');
    expect(r.headers['x-origin']).toBeUndefined();
    expect(outcome.abandoned).toBe('replaced');
    expect(outcome.captured).toBeUndefined();
  });
  it('replace() sends another response now and turns what the app does later into no-ops', async () => {
    const stored: CapturedResponse = { status: 200, headers: [['content-type', 'text/plain']], body: Buffer.from('now') };
    let late: unknown = 'not yet';
    const app = express();
    app.get('/', (_req, res) => {
      const handle = captureResponse(res, { maxBytes: 1 << 20, timeout: 1000, onEnd: () => {} });
      expect(handle.replace(stored)).toBe(true);
      expect(handle.replace(stored)).toBe(false);
      setTimeout(() => {
        try {
          res.status(500).set('x-late', '1').json({ late: true });
          late = 'ignored';
        } catch (error) {
          late = error;
        }
      }, 20);
    });
    const r = await request(app).get('/');
    expect(r.status).toBe(200);
    expect(r.text).toBe('now');
    await waitFor('the late answer', async () => late !== 'not yet', 5000, 10);
    expect(late).toBe('ignored');
  });
});
