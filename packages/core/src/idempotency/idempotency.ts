import { hash } from 'node:crypto';
import { RedisKitError } from '../errors';
import { LUA } from '../generated/lua';
import { problemResponse, unavailableProblem } from '../http';
import { toRedisKitError } from '../redis/errors-map';
import { isRedisKit, type RedisKit } from '../redis/redis-kit';
import { randomToken } from '../redis/random-token';
import { defineScript } from '../redis/script';
import { IdempotencyClaim } from './claim';
import { CompletionSignals } from '../redis/completion-signals';
import type { IdempotencyEventBase } from './events';
import { fingerprint, type FieldSelection } from './fingerprint';
import { parseIdempotencyKey, type KeyRules } from './key-header';
import {
  resolveIdempotencyOptions,
  type IdempotencyOptions,
  type IdempotencyRequest,
  type ResolvedIdempotencyOptions,
} from './options';
import { defaultPrincipal } from './principal';
import { IDEMPOTENCY_PROBLEM_TYPES } from './problems';
import { inProgressRecord, readRecord } from './record';
import { fromPlain, REPLAYED_HEADER, type IdempotencyResponse } from './response';

/** nil: claimed; a record: done (or another request's); [record, pttl]: in progress. */
type ClaimReply = Buffer | null | [Buffer, number];

const CLAIM = defineScript<ClaimReply>(LUA.idempotencyClaim);

/**
 * What the adapter does with a request:
 * - `pass`: run the handler untouched (method not covered, or no key on an optional route);
 * - `respond`: send `response` (a replay or a problem) and do not run the handler;
 * - `proceed`: run the handler; `claim` follows its response (none when Redis
 *   is down and the policy is to fail open).
 */
export type IdempotencyDecision =
  | { action: 'pass' }
  | { action: 'respond'; response: IdempotencyResponse }
  | { action: 'proceed'; claim: IdempotencyClaim | undefined };

type Outcome =
  | { kind: 'claimed' }
  | { kind: 'mismatch' }
  | { kind: 'running'; pttl: number }
  | { kind: 'done'; status: number; headers: Array<[string, string]>; body: Buffer; stored: boolean }
  | { kind: 'failed'; error: RedisKitError };

const PASS: IdempotencyDecision = { action: 'pass' };
const CLAIMED: Outcome = { kind: 'claimed' };

function respond(response: IdempotencyResponse): IdempotencyDecision {
  return { action: 'respond', response };
}

/**
 * The framework-free idempotency engine: validates the `Idempotency-Key`
 * header, fingerprints the request, claims the key in one script, and
 * answers duplicates (replay, 409, 422) or hands the adapter a claim that
 * stores the handler's response. Adapters build an {@link IdempotencyRequest}
 * and act on the {@link IdempotencyDecision}.
 *
 * @example
 * const engine = createIdempotency(kit, { required: true });
 * const decision = await engine.begin({ method: 'POST', path: '/orders', headers: req.headers,
 *   rawHeaders: req.rawHeaders, body: req.body, native: req });
 * if (decision.action === 'respond') writeIdempotencyResponse(res, decision.response);
 * else { decision.action === 'proceed' && decision.claim?.track(res); next(); }
 */
export class IdempotencyEngine<TNative = unknown> {
  readonly options: ResolvedIdempotencyOptions<TNative>;
  private readonly keyRules: KeyRules;
  private readonly selection: FieldSelection;
  private readonly signals: CompletionSignals;

  constructor(
    readonly kit: RedisKit,
    options: IdempotencyOptions<TNative> | ResolvedIdempotencyOptions<TNative> = {},
  ) {
    this.options = isResolved(options) ? options : resolveIdempotencyOptions(options);
    this.keyRules = {
      header: this.options.header,
      minLength: this.options.minKeyLength,
      maxLength: this.options.maxKeyLength,
      pattern: this.options.keyPattern,
    };
    const o = this.options;
    this.selection = { ...(o.fingerprintFields ? { include: o.fingerprintFields } : {}), ...(o.ignoreFields ? { exclude: o.ignoreFields } : {}) };
    this.signals = new CompletionSignals(kit);
  }

  /** Decides what happens to one request; never throws for Redis trouble (the fail policy answers). */
  async begin(request: IdempotencyRequest<TNative>): Promise<IdempotencyDecision> {
    const o = this.options;
    const method = request.method.toUpperCase();
    if (!o.methods.has(method)) return PASS;
    const event: IdempotencyEventBase = { method, path: request.path };
    const parsed = parseIdempotencyKey(request.rawHeaders, this.keyRules);
    if (parsed.kind === 'missing') {
      if (!o.required) return PASS;
      this.kit.events.emit('idempotency:rejected', { ...event, reason: 'missing' });
      return respond(
        this.problem(400, IDEMPOTENCY_PROBLEM_TYPES.keyMissing, 'Idempotency-Key is missing',
          `${method} ${request.path} requires an ${this.headerName()} header: a unique key per operation, reused only to retry it.`),
      );
    }
    if (parsed.kind === 'invalid') {
      this.kit.events.emit('idempotency:rejected', { ...event, reason: 'invalid' });
      return respond(
        this.problem(400, IDEMPOTENCY_PROBLEM_TYPES.keyInvalid, 'Idempotency-Key is invalid',
          `${parsed.reason}. Send one key of ${o.minKeyLength} to ${o.maxKeyLength} characters matching ${String(o.keyPattern)}, as a quoted sf-string or bare.`),
      );
    }

    const custom = o.principal?.(request.native, request);
    const principal = o.principal ? (custom === undefined || custom === null ? '' : `custom:${String(custom)}`) : defaultPrincipal(request.headers, request.user);
    const fp = fingerprint(
      { method, path: request.path, query: request.query, body: request.body, rawBody: request.rawBody, hasBody: hasBody(request) },
      this.selection,
    );
    if (fp.form === 'unparsed') {
      this.kit.advisories.warn(
        'idempotencyBodyNotParsed',
        `idempotency: ${method} ${request.path} has a body that no body parser exposed, so the fingerprint cannot tell two bodies apart; run express.json() / a Koa body parser before the middleware`,
      );
    }
    // The record is scoped by principal, method and path: two principals
    // never share one, whatever keys they send. Hashed: no credential or
    // user id in Redis keys, bounded length.
    const id = hash('sha256', JSON.stringify([principal, method, request.path, parsed.key]), 'base64url');
    const entity = this.kit.keys.entity('idempotency', id);
    const record = entity.key('r');
    const channel = entity.key('n');
    const inProgress = inProgressRecord(fp.value, randomToken(16, 'hex'));

    let outcome = await this.claim(record, inProgress, fp.value);
    if (outcome.kind === 'running' && o.wait) outcome = await this.waitForOutcome(record, channel, inProgress, fp.value, event);
    return this.decide(outcome, { record, channel, inProgress, fingerprint: fp.value, event });
  }

  private decide(
    outcome: Outcome,
    c: { record: string; channel: string; inProgress: string; fingerprint: string; event: IdempotencyEventBase },
    waited = this.options.wait,
  ): IdempotencyDecision {
    const o = this.options;
    switch (outcome.kind) {
      case 'claimed':
        this.kit.events.emit('idempotency:claimed', c.event);
        return { action: 'proceed', claim: new IdempotencyClaim({ kit: this.kit, options: o, ...c }) };
      case 'failed':
        if (o.failPolicy === 'open') return { action: 'proceed', claim: undefined };
        return respond(fromPlain(unavailableProblem('idempotency', 1)));
      case 'mismatch':
        this.kit.events.emit('idempotency:mismatch', c.event);
        return respond(
          this.problem(422, IDEMPOTENCY_PROBLEM_TYPES.keyReused, 'Idempotency-Key is already used',
            `This ${this.headerName()} was used with a different request (method, path, query or body). Use a new key for a new operation.`),
        );
      case 'running': {
        const retryAfter = Math.max(1, Math.ceil(outcome.pttl / 1000));
        this.kit.events.emit('idempotency:conflict', { ...c.event, waiting: false, retryAfter });
        return respond(
          this.problem(409, IDEMPOTENCY_PROBLEM_TYPES.inFlight, 'A request with this Idempotency-Key is in progress',
            'A request with the same key is still being processed. Retry after the time in Retry-After to get its response.',
            { 'retry-after': String(retryAfter) }),
        );
      }
      case 'done':
        if (!outcome.stored) {
          this.kit.events.emit('idempotency:replayed', { ...c.event, status: outcome.status, waited });
          return respond(
            this.problem(409, IDEMPOTENCY_PROBLEM_TYPES.notStored, 'The response for this Idempotency-Key is not stored',
              `The request with this key completed with status ${outcome.status}, but its response was too large or broke off, so it cannot be replayed. It was not run again.`,
              {}, { 'original-status': outcome.status }),
          );
        }
        if (this.kit.events.listenerCount('idempotency:replayed') > 0) {
          this.kit.events.emit('idempotency:replayed', { ...c.event, status: outcome.status, waited });
        }
        return respond({
          status: outcome.status,
          headers: [...outcome.headers, [REPLAYED_HEADER, 'true']],
          body: outcome.body,
          replayed: true,
        });
    }
  }

  private async claim(record: string, inProgress: string, fp: string): Promise<Outcome> {
    let reply: ClaimReply;
    try {
      reply = await CLAIM.runBuffer<ClaimReply>(this.kit, [record], [inProgress, this.options.lease]);
      this.kit.noteSuccess('idempotency');
    } catch (error) {
      const coded = toRedisKitError(error, 'idempotency claim', true);
      this.kit.noteFailure('idempotency', 'claim', this.options.failPolicy, coded);
      return { kind: 'failed', error: coded };
    }
    if (reply === null) return CLAIMED;
    const [bytes, pttl] = Array.isArray(reply) ? reply : [reply, 0];
    const view = readRecord(bytes, fp);
    if (view === undefined) {
      // Not a record this version wrote: refuse to guess what it means.
      const error = new RedisKitError('ERR_REDISKIT_SCRIPT', 'idempotency claim: the key holds a value that is not an idempotency record', {
        details: { operation: 'idempotency claim' },
      });
      this.kit.noteFailure('idempotency', 'claim', this.options.failPolicy, error);
      return { kind: 'failed', error };
    }
    if (view.kind === 'running') return { kind: 'running', pttl: Math.max(0, Number(pttl)) };
    return view;
  }

  /**
   * Wait mode: subscribe to the key's channel, check again (the first request
   * may have finished in between), then sleep until a PUBLISH from complete
   * or release, or until the in-progress lease would lapse (a crashed owner
   * publishes nothing), and check once more. Bounded by `waitTimeout`.
   */
  private async waitForOutcome(
    record: string,
    channel: string,
    inProgress: string,
    fp: string,
    event: IdempotencyEventBase,
  ): Promise<Outcome> {
    const o = this.options;
    const deadline = Date.now() + o.waitTimeout;
    let signal;
    try {
      signal = await this.signals.listen(channel, Math.min(o.waitTimeout, Math.max(this.kit.options.operationTimeout, 1000)));
    } catch (error) {
      this.kit.noteFailure('idempotency', 'subscribe', o.failPolicy, toRedisKitError(error, 'idempotency subscribe'));
      return this.claim(record, inProgress, fp);
    }
    try {
      let announced = false;
      for (;;) {
        const outcome = await this.claim(record, inProgress, fp);
        if (outcome.kind !== 'running') return outcome;
        const left = deadline - Date.now();
        if (left <= 0) return outcome;
        if (!announced) {
          announced = true;
          this.kit.events.emit('idempotency:conflict', { ...event, waiting: true, retryAfter: Math.max(1, Math.ceil(outcome.pttl / 1000)) });
        }
        await signal.next(Math.min(left, outcome.pttl + 20));
      }
    } finally {
      signal.close();
    }
  }

  private headerName(): string {
    return this.options.header.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
  }

  private problem(
    status: number,
    type: string,
    title: string,
    detail: string,
    headers: Record<string, string> = {},
    extensions: Record<string, unknown> = {},
  ): IdempotencyResponse {
    return fromPlain(problemResponse({ type, title, status, detail, ...extensions }, headers));
  }

  /** Channels that currently have waiting requests (wait mode); 0 when idle. */
  get waitingChannels(): number {
    return this.signals.listening;
  }
}

function isResolved<T>(o: IdempotencyOptions<T> | ResolvedIdempotencyOptions<T>): o is ResolvedIdempotencyOptions<T> {
  return (o as ResolvedIdempotencyOptions<T>).methods instanceof Set;
}

function hasBody(request: IdempotencyRequest<unknown>): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return request.headers['transfer-encoding'] !== undefined;
}

/**
 * Creates the idempotency engine for a context. Adapters call it; use it
 * directly to put idempotency in front of any Node HTTP handler.
 */
export function createIdempotency<TNative = unknown>(kit: RedisKit, options?: IdempotencyOptions<TNative>): IdempotencyEngine<TNative> {
  return new IdempotencyEngine<TNative>(kit, options);
}

/**
 * What the Express and Koa middleware factories share: their `(options)` or
 * `(kit, options)` arguments, validated at once (bad options fail at
 * startup), and the engine of a request's context, one per context. Without
 * a `kit` argument the context comes from `attached()` (the one the app was
 * given with attachRedisKit).
 *
 * @example
 * const engineFor = prepareIdempotency<Request>(options);
 * app.use((req, res, next) => engineFor(() => getRedisKit(req)).begin(...));
 */
export function prepareIdempotency<TNative>(
  a?: RedisKit | IdempotencyOptions<TNative>,
  b?: IdempotencyOptions<TNative>,
): (attached: () => RedisKit) => IdempotencyEngine<TNative> {
  const kit = isRedisKit(a) ? a : undefined;
  const resolved = resolveIdempotencyOptions<TNative>(kit ? b : (a as IdempotencyOptions<TNative> | undefined));
  const engines = new WeakMap<RedisKit, IdempotencyEngine<TNative>>();
  return (attached) => {
    const k = kit ?? attached();
    let engine = engines.get(k);
    if (!engine) {
      engine = new IdempotencyEngine<TNative>(k, resolved);
      engines.set(k, engine);
    }
    return engine;
  };
}

