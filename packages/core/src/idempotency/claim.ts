import type { ServerResponse } from 'node:http';
import { LUA } from '../generated/lua';
import { captureResponse, type CapturedResponse } from '../http';
import { defineScript } from '../redis/script';
import { toRedisKitError } from '../redis/errors-map';
import type { RedisKit } from '../redis/redis-kit';
import type { IdempotencyEventBase } from './events';
import type { ResolvedIdempotencyOptions } from './options';
import { doneRecordHead } from './record';

const RENEW = defineScript<number>(LUA.idempotencyRenew);
const COMPLETE = defineScript<number>(LUA.idempotencyComplete);
const RELEASE = defineScript<number>(LUA.idempotencyRelease);
const EMPTY = Buffer.alloc(0);

/** What a claim needs to know about its key; built by the engine. */
export interface ClaimContext {
  kit: RedisKit;
  options: ResolvedIdempotencyOptions<any>;
  record: string;
  channel: string;
  /** The in-progress record this request's claim wrote (fingerprint and owner token). */
  inProgress: string;
  fingerprint: string;
  event: IdempotencyEventBase;
}

/** Where a claim is: its handler runs, its outcome is being written, or it is over. */
export type ClaimPhase = 'running' | 'settling' | 'settled';

/**
 * A key this request owns while its handler runs. The lease is renewed every
 * third of `lease` until the claim settles (or `maxProcessingTime` passes).
 * It settles once: the response is stored (`complete`) or the key is given
 * up (`release`); later calls are no-ops, so an error response written after
 * a release is never stored.
 *
 * Adapters call {@link track} with the Node response, which does the rest for
 * any way the app writes it; Koa and NestJS also report thrown errors
 * ({@link release}) and the end of the handler ({@link handlerDone}).
 */
export class IdempotencyClaim {
  private currentPhase: ClaimPhase = 'running';
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private responseEnded = false;
  private clientGone = false;
  private handlerFinished = false;
  private fallback: (() => CapturedResponse | undefined) | undefined;
  private settledPromise: Promise<void> | undefined;

  constructor(private readonly ctx: ClaimContext) {
    this.scheduleRenewal();
  }

  get phase(): ClaimPhase {
    return this.currentPhase;
  }

  /** Resolves when the claim has settled in Redis (for tests and graceful shutdown). */
  settled(): Promise<void> {
    return this.settledPromise ?? Promise.resolve();
  }

  /**
   * Follows the response however the app writes it (`res.send`, `res.write`
   * + `end`, a piped stream, Koa's `ctx.body`): its last bytes go out only
   * after the record is stored or released, so a retry sent the moment the
   * client has the response is answered from the record, never with 409.
   */
  track(res: ServerResponse): void {
    const o = this.ctx.options;
    const storeTimeout = this.ctx.kit.options.operationTimeout * 2;
    captureResponse(res, {
      maxBytes: o.maxResponseBytes,
      timeout: storeTimeout + 50,
      onEnd: (captured) => {
        this.responseEnded = true;
        return this.finish(captured.status, captured);
      },
      onAbandon: (reason) => {
        if (reason === 'too-large') {
          this.responseEnded = true;
          void this.finish(res.statusCode, undefined, 'too-large');
        } else if (reason === 'error') {
          void this.finish(res.statusCode, undefined, 'aborted');
        }
      },
    });
    res.once('close', () => {
      if (this.responseEnded || res.writableEnded) return;
      if (res.headersSent) {
        // The status went out, then the response broke off: the handler's
        // outcome is decided but its body is incomplete.
        void this.finish(res.statusCode, undefined, 'aborted');
      } else {
        // The client left before the response started. The handler may
        // still be running; its response is stored when it ends.
        this.clientGone = true;
        if (this.handlerFinished) this.settleUnwritten();
      }
    });
  }

  // The handler is done and the client left before anything was written, so
  // nothing will end the response: store what the adapter says it would have
  // sent, or give the key up.
  private settleUnwritten(): void {
    const response = this.fallback?.();
    if (response) void this.complete(response);
    else void this.release('aborted');
  }

  /**
   * The handler has returned and the framework will not write anything more
   * for a client that has left (Koa skips its respond step then). If the
   * client left before the response started, `fallback` gives the response
   * the framework would have sent, and it is stored; without one the key is
   * released. Adapters whose framework always ends the response (Express,
   * Nest) need not call it.
   */
  handlerDone(fallback?: () => CapturedResponse | undefined): void {
    this.handlerFinished = true;
    this.fallback = fallback;
    if (this.clientGone && !this.responseEnded) this.settleUnwritten();
  }

  /** Stores `response` as the key's record (if its status is stored), else releases the key. */
  complete(response: CapturedResponse): Promise<void> {
    this.responseEnded = true;
    return this.finish(response.status, response);
  }

  /** Gives up the key so a retry runs the handler again (e.g. the handler threw). */
  release(reason: 'error' | 'status' | 'aborted' | 'too-large' = 'error', status?: number): Promise<void> {
    if (this.currentPhase !== 'running') return this.settled();
    this.enterSettling();
    this.settledPromise = this.drop(reason, status);
    return this.settledPromise;
  }

  private enterSettling(): void {
    this.currentPhase = 'settling';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private finish(status: number, captured: CapturedResponse | undefined, why?: 'too-large' | 'aborted'): Promise<void> {
    if (this.currentPhase !== 'running') return this.settled();
    this.enterSettling();
    const o = this.ctx.options;
    let work: Promise<void>;
    if (!o.storeStatus(status)) work = this.drop('status', status);
    else if (captured) {
      const headers = captured.headers.filter(([name]) => o.replayHeaders.has(name));
      work = this.store(status, headers, captured.body, true);
    } else if (o.oversize === 'release') work = this.drop(why ?? 'aborted', status);
    else work = this.store(status, [], EMPTY, false);
    this.settledPromise = work;
    return work;
  }

  private async store(status: number, headers: Array<[string, string]>, body: Buffer, stored: boolean): Promise<void> {
    const { kit, options: o } = this.ctx;
    try {
      const ok = await COMPLETE.run(
        kit,
        [this.ctx.record],
        [this.ctx.inProgress, doneRecordHead(this.ctx.fingerprint, status, headers, stored), body, o.retention, this.ctx.channel],
        { timeout: kit.options.operationTimeout * 2 },
      );
      kit.noteSuccess('idempotency');
      if (ok === 1) {
        if (kit.events.listenerCount('idempotency:completed') > 0) {
          kit.events.emit('idempotency:completed', { ...this.ctx.event, status, bytes: body.length, stored });
        }
      } else kit.events.emit('idempotency:lease-lost', { ...this.ctx.event, reason: 'lost' });
    } catch (error) {
      kit.noteFailure('idempotency', 'complete', o.failPolicy, toRedisKitError(error, 'idempotency complete', true));
    } finally {
      this.currentPhase = 'settled';
    }
  }

  private async drop(reason: 'error' | 'status' | 'aborted' | 'too-large', status?: number): Promise<void> {
    const { kit, options: o } = this.ctx;
    try {
      const ok = await RELEASE.run(kit, [this.ctx.record], [this.ctx.inProgress, this.ctx.channel]);
      kit.noteSuccess('idempotency');
      if (ok === 1) {
        kit.events.emit('idempotency:released', { ...this.ctx.event, reason, ...(status !== undefined ? { status } : {}) });
      }
    } catch (error) {
      // The lease lapses on its own; a retry runs once it has.
      kit.noteFailure('idempotency', 'release', o.failPolicy, toRedisKitError(error, 'idempotency release', true));
    } finally {
      this.currentPhase = 'settled';
    }
  }

  private scheduleRenewal(): void {
    const every = Math.max(25, Math.floor(this.ctx.options.lease / 3));
    this.timer = setTimeout(() => void this.renew(), every);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    this.timer = undefined;
    const { kit, options: o } = this.ctx;
    if (this.currentPhase !== 'running') return;
    if (Date.now() - this.startedAt >= o.maxProcessingTime) {
      // A handler that never ends its response must not hold the key forever.
      kit.events.emit('idempotency:lease-lost', { ...this.ctx.event, reason: 'timeout' });
      return;
    }
    try {
      const ok = await RENEW.run(kit, [this.ctx.record], [this.ctx.inProgress, o.lease]);
      kit.noteSuccess('idempotency');
      if (ok === 0) {
        if (this.currentPhase === 'running') kit.events.emit('idempotency:lease-lost', { ...this.ctx.event, reason: 'lost' });
        return;
      }
    } catch (error) {
      kit.noteFailure('idempotency', 'renew', o.failPolicy, toRedisKitError(error, 'idempotency renew', true));
    }
    if (this.currentPhase === 'running') this.scheduleRenewal();
  }
}
