import type { IncomingHttpHeaders } from 'node:http';
import {
  assertKnownOptions,
  invalidOption,
  optBoolean,
  optEnum,
  optFunction,
  optNumber,
  optString,
} from '../options';
import type { FailPolicy } from '../redis/fail-policy';

/** One request as the engine sees it; adapters build it from `req` / `ctx`. */
export interface IdempotencyRequest<TNative = unknown> {
  method: string;
  /** Path without the query string (`/orders/42`). */
  path: string;
  /** Query string without `?`. */
  query?: string;
  /** Lower-case header names, as Node gives them. */
  headers: IncomingHttpHeaders;
  /** Name/value pairs as received (`req.rawHeaders`), to see repeated key headers. */
  rawHeaders: readonly string[];
  /** The parsed body, if a body parser ran. */
  body?: unknown;
  /** The body bytes as received, if the body parser kept them. */
  rawBody?: Buffer | string;
  /** The authenticated user, if the framework has one (`req.user`, `ctx.state.user`, session user). */
  user?: unknown;
  /** The framework's request (`req` or `ctx`), for a custom `principal`. */
  native: TNative;
}

/**
 * Options of the idempotency middleware (`idempotency()` in Express and Koa,
 * `@Idempotent()` in NestJS). Every option, its default and its effect are in
 * docs/idempotency.md.
 */
export interface IdempotencyOptions<TNative = unknown> {
  /** Answer 400 when the header is missing. Default false: requests without a key pass through untouched. */
  required?: boolean;
  /** Methods that are handled; others pass through. Default POST, PUT, PATCH, DELETE. */
  methods?: string[];
  /** Request header carrying the key. Default `Idempotency-Key`. */
  header?: string;
  /** Shortest accepted key. Default 8. */
  minKeyLength?: number;
  /** Longest accepted key. Default 255. */
  maxKeyLength?: number;
  /** Characters a key may use. Default `/^[A-Za-z0-9_.~:+\/=-]+$/`. */
  keyPattern?: RegExp;
  /**
   * Who the request is for: records are scoped by it (with method and path),
   * so two principals never see each other's responses. Default: the
   * authenticated user's id, else a hash of the Authorization header, else
   * anonymous (''). Return undefined or null for anonymous.
   */
  principal?: (native: TNative, request: IdempotencyRequest<TNative>) => string | number | undefined | null;
  /** Fingerprint only these JSON fields (dotted paths). */
  fingerprintFields?: string[];
  /** Leave these JSON fields out of the fingerprint (dotted paths). */
  ignoreFields?: string[];
  /** In-progress lease in ms, renewed while the handler runs. Default 5000. */
  lease?: number;
  /** How long a completed response is kept for replay, in ms. Default 24 h. */
  retention?: number;
  /** Longest the lease is renewed for one request, in ms. Default 5 min. */
  maxProcessingTime?: number;
  /** Make a duplicate wait for the first request's response instead of answering 409. Default false. */
  wait?: boolean;
  /** Longest a duplicate waits in wait mode, in ms; then 409. Default 10000. */
  waitTimeout?: number;
  /** Which handler statuses are stored for replay. Default: below 500, except 408, 425 and 429. */
  storeStatus?: (status: number) => boolean;
  /** Response headers replayed besides Content-Type, Location, ETag, Content-Location, Cache-Control. Never Set-Cookie. */
  replayHeaders?: string[];
  /** Largest response body stored, in bytes. Default 1 MiB. */
  maxResponseBytes?: number;
  /**
   * A storable response larger than `maxResponseBytes`, or one that broke off
   * after its status was sent: `'record'` (default) keeps the outcome so
   * retries get 409 `idempotency-response-not-stored` and the handler never
   * runs twice; `'release'` gives the key up so a retry runs the handler again.
   */
  oversize?: 'record' | 'release';
  /** Redis unavailable: `'closed'` (default) answers 503 without running the handler, `'open'` runs it unprotected. */
  failPolicy?: FailPolicy;
}

/** Options after defaults, frozen. */
export interface ResolvedIdempotencyOptions<TNative = unknown> {
  readonly required: boolean;
  readonly methods: ReadonlySet<string>;
  readonly header: string;
  readonly minKeyLength: number;
  readonly maxKeyLength: number;
  readonly keyPattern: RegExp;
  readonly principal: IdempotencyOptions<TNative>['principal'];
  readonly fingerprintFields: readonly string[] | undefined;
  readonly ignoreFields: readonly string[] | undefined;
  readonly lease: number;
  readonly retention: number;
  readonly maxProcessingTime: number;
  readonly wait: boolean;
  readonly waitTimeout: number;
  readonly storeStatus: (status: number) => boolean;
  readonly replayHeaders: ReadonlySet<string>;
  readonly maxResponseBytes: number;
  readonly oversize: 'record' | 'release';
  readonly failPolicy: FailPolicy;
}

const KNOWN = [
  'required',
  'methods',
  'header',
  'minKeyLength',
  'maxKeyLength',
  'keyPattern',
  'principal',
  'fingerprintFields',
  'ignoreFields',
  'lease',
  'retention',
  'maxProcessingTime',
  'wait',
  'waitTimeout',
  'storeStatus',
  'replayHeaders',
  'maxResponseBytes',
  'oversize',
  'failPolicy',
] as const;

/** Methods whose requests never change state (RFC 9110 §9.2.1); idempotency keys make no sense there. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers a replay carries when the handler set them. */
export const DEFAULT_REPLAY_HEADERS = ['content-type', 'location', 'etag', 'content-location', 'cache-control'] as const;

/** Default `storeStatus`: everything the handler answered below 500, except statuses that ask the client to retry. */
export function defaultStoreStatus(status: number): boolean {
  return status >= 200 && status < 500 && status !== 408 && status !== 425 && status !== 429;
}

function stringList(where: string, name: string, value: unknown, rule: (s: string) => boolean, expected: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !rule(v))) invalidOption(where, name, expected, value);
  return [...(value as string[])];
}

/**
 * Validates options and applies defaults; throws a RedisKitError
 * (ERR_REDISKIT_INVALID_OPTION / ERR_REDISKIT_UNKNOWN_OPTION) naming the
 * option. Adapters call it when the middleware is created, so bad
 * configuration fails at startup, not on the first request.
 */
export function resolveIdempotencyOptions<TNative = unknown>(
  options: IdempotencyOptions<TNative> = {},
  where = 'idempotency',
): ResolvedIdempotencyOptions<TNative> {
  assertKnownOptions(where, options, KNOWN);
  const methods = stringList(where, 'methods', options.methods, (m) => TOKEN.test(m), 'a list of HTTP method names');
  if (methods?.length === 0) invalidOption(where, 'methods', 'a non-empty list of HTTP method names', methods);
  const upper = (methods ?? ['POST', 'PUT', 'PATCH', 'DELETE']).map((m) => m.toUpperCase());
  const safe = upper.filter((m) => SAFE_METHODS.has(m));
  if (safe.length > 0) invalidOption(where, 'methods', `unsafe methods only (${safe.join(', ')} never change state)`, methods);

  const header = optString(where, 'header', options.header, 'Idempotency-Key', {
    pattern: TOKEN,
    describe: 'a header name',
  }).toLowerCase();
  const minKeyLength = optNumber(where, 'minKeyLength', options.minKeyLength, 8, { integer: true, min: 1, max: 1024 });
  const maxKeyLength = optNumber(where, 'maxKeyLength', options.maxKeyLength, 255, { integer: true, min: 1, max: 1024 });
  if (maxKeyLength < minKeyLength) invalidOption(where, 'maxKeyLength', `>= minKeyLength (${minKeyLength})`, maxKeyLength);
  let keyPattern = /^[A-Za-z0-9_.~:+/=-]+$/;
  if (options.keyPattern !== undefined) {
    if (!(options.keyPattern instanceof RegExp) || options.keyPattern.global || options.keyPattern.sticky) {
      invalidOption(where, 'keyPattern', 'a RegExp without the g or y flag', options.keyPattern);
    }
    keyPattern = options.keyPattern;
  }

  const fingerprintFields = stringList(where, 'fingerprintFields', options.fingerprintFields, (s) => s.length > 0, 'a list of field paths');
  const ignoreFields = stringList(where, 'ignoreFields', options.ignoreFields, (s) => s.length > 0, 'a list of field paths');
  if (fingerprintFields && ignoreFields) {
    invalidOption(where, 'ignoreFields', 'left out when fingerprintFields is given (give one of them)', ignoreFields);
  }

  const lease = optNumber(where, 'lease', options.lease, 5000, { integer: true, min: 100, max: 3_600_000 });
  const retention = optNumber(where, 'retention', options.retention, 86_400_000, { integer: true, min: 100, max: 31 * 86_400_000 });
  const maxProcessingTime = optNumber(where, 'maxProcessingTime', options.maxProcessingTime, 300_000, {
    integer: true,
    min: lease,
    max: 86_400_000,
  });
  const waitTimeout = optNumber(where, 'waitTimeout', options.waitTimeout, 10_000, { integer: true, min: 1, max: 600_000 });

  const replayHeaders = stringList(where, 'replayHeaders', options.replayHeaders, (s) => TOKEN.test(s), 'a list of header names');
  if (replayHeaders?.some((h) => h.toLowerCase() === 'set-cookie')) {
    invalidOption(where, 'replayHeaders', 'a list without Set-Cookie (a replay never sets cookies: they may belong to the first client)', replayHeaders);
  }

  return Object.freeze({
    required: optBoolean(where, 'required', options.required, false),
    methods: new Set(upper),
    header,
    minKeyLength,
    maxKeyLength,
    keyPattern,
    principal: optFunction<NonNullable<IdempotencyOptions<TNative>['principal']>>(where, 'principal', options.principal, undefined),
    fingerprintFields,
    ignoreFields,
    lease,
    retention,
    maxProcessingTime,
    wait: optBoolean(where, 'wait', options.wait, false),
    waitTimeout,
    storeStatus: optFunction<(status: number) => boolean>(where, 'storeStatus', options.storeStatus, defaultStoreStatus),
    replayHeaders: new Set([...DEFAULT_REPLAY_HEADERS, ...(replayHeaders ?? []).map((h) => h.toLowerCase())]),
    maxResponseBytes: optNumber(where, 'maxResponseBytes', options.maxResponseBytes, 1 << 20, {
      integer: true,
      min: 0,
      max: 64 << 20,
    }),
    oversize: optEnum(where, 'oversize', options.oversize, ['record', 'release'] as const, 'record'),
    failPolicy: optEnum(where, 'failPolicy', options.failPolicy, ['closed', 'open'] as const, 'closed'),
  });
}
