import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** A response as the client received it: status, headers in order, body bytes. */
export interface CapturedResponse {
  status: number;
  /** Lower-case names; one pair per value, so multi-valued headers keep their order. */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** Why a capture produced no {@link CapturedResponse}. */
export type CaptureAbandonReason = 'not-captured' | 'too-large' | 'error' | 'replaced';

/**
 * What `onHead` may answer: `true` to capture, `false` to let the response
 * through untouched, or `{ replaceWith }` to discard what the app writes and
 * send `replaceWith` instead once the app ends its response (a cache serving
 * a stored copy when the origin failed).
 */
export type HeadDecision = boolean | { replaceWith: CapturedResponse };

export interface CaptureOptions {
  /** Most body bytes to buffer; past it the capture stops and is abandoned ('too-large'). */
  maxBytes: number;
  /**
   * Called once, when status and headers are final (at the first write or
   * end), before anything is sent. Return false to let the response through
   * untouched: nothing is buffered and `onAbandon('not-captured')` follows.
   * Return `{ replaceWith }` to swallow the app's status, headers and body
   * and send `replaceWith` when the app ends; `onAbandon('replaced')` follows.
   * The hook may set or remove headers on the response.
   */
  onHead?(status: number, headers: Array<[string, string]>): HeadDecision;
  /**
   * Called once with the whole response after the app ended it and before
   * its last bytes are released to the client, so whatever `onEnd` stores
   * is in place when the client sees the response complete. The response
   * waits for it at most `timeout` ms.
   */
  onEnd(captured: CapturedResponse): Promise<void> | void;
  /** Called once instead of `onEnd` when nothing was captured. */
  onAbandon?(reason: CaptureAbandonReason): void;
  /** Longest the end of the response waits for `onEnd`, in ms. */
  timeout: number;
}

/** Flattens outgoing headers into ordered `[name, value]` pairs with lower-case names. */
export function headerPairs(headers: OutgoingHttpHeaders): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  // getHeaders() gives an own-property object with lower-case names already;
  // toLowerCase() stays for objects built by hand.
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || !Object.prototype.hasOwnProperty.call(headers, name)) continue;
    const lower = name.toLowerCase();
    if (Array.isArray(value)) for (const v of value) out.push([lower, String(v)]);
    else out.push([lower, String(value)]);
  }
  return out;
}

type WriteCallback = (error?: Error | null) => void;

/** Drops what the app set and sends `r` through the response's own methods. */
function sendReplacement(
  res: ServerResponse,
  r: CapturedResponse,
  writeHead: ServerResponse['writeHead'],
  end: ServerResponse['end'],
  cb: unknown,
): void {
  if (!res.headersSent) {
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    const grouped = new Map<string, string[]>();
    for (const [name, value] of r.headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
    for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0]! : values);
    res.statusCode = r.status;
    writeHead.call(res, r.status);
  }
  const args: unknown[] = res.req?.method === 'HEAD' ? [] : [r.body];
  if (typeof cb === 'function') args.push(cb);
  (end as (...a: unknown[]) => ServerResponse).call(res, ...args);
}

/** What {@link captureResponse} returns. */
export interface CaptureHandle {
  /**
   * Sends `response` now if nothing was sent yet, and turns whatever the app
   * does with the response afterwards (headers, writes, end) into no-ops.
   * Returns false when it is too late. `onAbandon('replaced')` follows.
   */
  replace(response: CapturedResponse): boolean;
}

type WriteHead = (this: ServerResponse, statusCode: number, message?: unknown, headers?: unknown) => ServerResponse;
type Write = (this: ServerResponse, chunk: unknown, encoding?: unknown, cb?: unknown) => boolean;
type End = (this: ServerResponse, chunk?: unknown, encoding?: unknown, cb?: unknown) => ServerResponse;

// One object per captured response holds its state, and the three patched
// methods only forward to it: idempotency and the cache capture every
// response they handle, so this runs per request and allocates little.
class Capture implements CaptureHandle {
  private decided = false;
  private capturing = false;
  private finished = false;
  private replacement: CapturedResponse | undefined;
  private size = 0;
  private readonly chunks: Buffer[] = [];
  // The final end() call, replayed once onEnd has finished (or timed out).
  private endChunk: unknown;
  private endEncoding: unknown;
  private endCallback: unknown;
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: CaptureOptions,
    private readonly origWriteHead: WriteHead,
    private readonly origWrite: Write,
    private readonly origEnd: End,
  ) {}

  abandon(reason: CaptureAbandonReason): void {
    if (this.finished) return;
    this.finished = true;
    this.capturing = false;
    this.chunks.length = 0;
    try {
      this.options.onAbandon?.(reason);
    } catch {
      // a hook must never break the response
    }
  }

  private decide(): void {
    if (this.decided) return;
    this.decided = true;
    const { onHead } = this.options;
    let wanted: HeadDecision = true;
    if (onHead) {
      try {
        wanted = onHead(this.res.statusCode, headerPairs(this.res.getHeaders()));
      } catch {
        wanted = false;
      }
    }
    if (typeof wanted === 'object' && wanted !== null) {
      this.replacement = wanted.replaceWith;
      this.abandon('replaced');
      return;
    }
    this.capturing = wanted === true;
    if (!this.capturing) this.abandon('not-captured');
  }

  private take(chunk: unknown, encoding: unknown, copy: boolean): void {
    this.decide();
    if (!this.capturing || chunk === undefined || chunk === null) return;
    let buf: Buffer;
    if (typeof chunk === 'string') {
      // A new Buffer already: nobody else holds it.
      buf = Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    } else if (chunk instanceof Uint8Array) {
      const view = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      // Copy: callers may reuse their buffer after write() returns. The last
      // chunk given to end() goes out as it is once the store step is done,
      // so it is kept as it is.
      buf = copy ? Buffer.from(view) : view;
    } else {
      return;
    }
    if (buf.length === 0) return;
    this.size += buf.length;
    if (this.size > this.options.maxBytes) {
      this.abandon('too-large');
      return;
    }
    this.chunks.push(buf);
  }

  // writeHead(status, [message], [headers]) may carry headers that never go
  // through setHeader (Node's fast path); move them there so getHeaders()
  // sees them, then decide with the final status and headers.
  writeHead(res: ServerResponse, statusCode: number, a: unknown, b: unknown): ServerResponse {
    const message = typeof a === 'string' ? a : undefined;
    const headers = typeof a === 'string' ? b : a;
    if (!res.headersSent && headers) {
      if (Array.isArray(headers)) {
        // [name, value, name, value, ...] or [[name, value], ...]
        const flat = Array.isArray(headers[0]) ? (headers as string[][]).flat() : (headers as string[]);
        const grouped = new Map<string, string[]>();
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const name = String(flat[i]);
          grouped.set(name, [...(grouped.get(name) ?? []), String(flat[i + 1])]);
        }
        for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0]! : values);
      } else if (typeof headers === 'object') {
        for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
          if (value !== undefined) res.setHeader(name, value as string | string[] | number);
        }
      }
    }
    res.statusCode = statusCode;
    if (message !== undefined) res.statusMessage = message;
    this.decide();
    if (this.replacement) return res;
    return message !== undefined ? this.origWriteHead.call(res, statusCode, message) : this.origWriteHead.call(res, statusCode);
  }

  write(res: ServerResponse, chunk: unknown, encoding: unknown, cb: unknown): boolean {
    this.take(chunk, encoding, true);
    if (this.replacement) {
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') process.nextTick(done as WriteCallback);
      return true;
    }
    return this.origWrite.call(res, chunk, encoding, cb);
  }

  end(res: ServerResponse, chunk: unknown, encoding: unknown, cb: unknown): ServerResponse {
    if (typeof chunk === 'function') {
      cb = chunk;
      chunk = undefined;
      encoding = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    // Restore first: a second end() from the app goes straight through.
    res.writeHead = this.origWriteHead as ServerResponse['writeHead'];
    res.write = this.origWrite as ServerResponse['write'];
    res.end = this.origEnd as ServerResponse['end'];
    this.take(chunk, encoding, false);
    if (this.replacement) {
      sendReplacement(res, this.replacement, this.origWriteHead as ServerResponse['writeHead'], this.origEnd as ServerResponse['end'], cb);
      return res;
    }
    this.endChunk = chunk;
    this.endEncoding = encoding;
    this.endCallback = cb;
    if (!this.capturing || this.finished) {
      this.release();
      return res;
    }
    this.finished = true;
    const { chunks } = this;
    const captured: CapturedResponse = {
      status: res.statusCode,
      headers: headerPairs(res.getHeaders()),
      body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
    };
    this.timer = setTimeout(releaseCapture, this.options.timeout, this);
    try {
      Promise.resolve(this.options.onEnd(captured)).then(
        () => this.release(),
        () => this.release(),
      );
    } catch {
      this.release();
    }
    return res;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearTimeout(this.timer);
    const { endChunk: chunk, endEncoding: encoding, endCallback: cb } = this;
    if (cb !== undefined) this.origEnd.call(this.res, chunk, encoding, cb);
    else if (encoding !== undefined) this.origEnd.call(this.res, chunk, encoding);
    else if (chunk !== undefined) this.origEnd.call(this.res, chunk);
    else this.origEnd.call(this.res);
  }

  replace(response: CapturedResponse): boolean {
    const { res } = this;
    if (res.headersSent || res.writableEnded || this.decided) return false;
    this.decided = true;
    this.replacement = response;
    this.abandon('replaced');
    res.writeHead = this.origWriteHead as ServerResponse['writeHead'];
    res.write = this.origWrite as ServerResponse['write'];
    res.end = this.origEnd as ServerResponse['end'];
    sendReplacement(res, response, this.origWriteHead as ServerResponse['writeHead'], this.origEnd as ServerResponse['end'], undefined);
    // The app is still running and will answer later: nothing it does may reach the client now.
    const self = () => res;
    const done = (...args: unknown[]) => {
      const callback = args.find((a) => typeof a === 'function') as WriteCallback | undefined;
      if (callback) process.nextTick(callback);
      return res;
    };
    Object.assign(res, {
      setHeader: self,
      removeHeader: () => undefined,
      appendHeader: self,
      writeHead: self,
      flushHeaders: () => undefined,
      write: (...args: unknown[]) => (done(...args), true),
      end: done,
    });
    return true;
  }
}

function releaseCapture(capture: Capture): void {
  capture.release();
}

/**
 * Tees a Node `ServerResponse` into a buffer, however the app writes it
 * (`res.send`, `res.write` + `res.end`, a piped stream, Koa's `ctx.body`):
 * patches `writeHead`, `write` and `end` on this one response object. Bytes
 * reach the client unchanged; only the final `end` is held until `onEnd`
 * resolves (or `timeout` passes), which is what lets a cache or idempotency
 * record be in Redis before the client has the whole response.
 *
 * Works for Express, Koa and NestJS on the Express platform, which all end in
 * the same `ServerResponse`.
 *
 * @example
 * captureResponse(res, {
 *   maxBytes: 1 << 20,
 *   timeout: kit.options.operationTimeout,
 *   onHead: (status) => status === 200,
 *   onEnd: (r) => store(key, r),
 * });
 */
export function captureResponse(res: ServerResponse, options: CaptureOptions): CaptureHandle {
  const capture = new Capture(res, options, res.writeHead as WriteHead, res.write as Write, res.end as End);
  res.writeHead = function (this: ServerResponse, statusCode: number, a?: unknown, b?: unknown) {
    return capture.writeHead(this, statusCode, a, b);
  } as ServerResponse['writeHead'];
  res.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown, cb?: unknown) {
    return capture.write(this, chunk, encoding, cb);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, cb?: unknown) {
    return capture.end(this, chunk, encoding, cb);
  } as ServerResponse['end'];
  res.once('error', () => capture.abandon('error'));
  return capture;
}
