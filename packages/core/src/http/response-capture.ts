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
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (Array.isArray(value)) for (const v of value) out.push([lower, String(v)]);
    else out.push([lower, String(value)]);
  }
  return out;
}

type WriteCallback = (error?: Error | null) => void;

function toBuffer(chunk: unknown, encoding?: BufferEncoding | WriteCallback): Buffer | undefined {
  if (chunk === undefined || chunk === null) return undefined;
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8');
  return undefined;
}

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
/** What {@link captureResponse} returns. */
export interface CaptureHandle {
  /**
   * Sends `response` now if nothing was sent yet, and turns whatever the app
   * does with the response afterwards (headers, writes, end) into no-ops.
   * Returns false when it is too late. `onAbandon('replaced')` follows.
   */
  replace(response: CapturedResponse): boolean;
}

export function captureResponse(res: ServerResponse, options: CaptureOptions): CaptureHandle {
  const origWriteHead = res.writeHead;
  const origWrite = res.write;
  const origEnd = res.end;
  let decided = false;
  let capturing = false;
  let finished = false;
  let replacement: CapturedResponse | undefined;
  let size = 0;
  const chunks: Buffer[] = [];

  const abandon = (reason: CaptureAbandonReason) => {
    if (finished) return;
    finished = true;
    capturing = false;
    chunks.length = 0;
    try {
      options.onAbandon?.(reason);
    } catch {
      // a hook must never break the response
    }
  };

  const decide = () => {
    if (decided) return;
    decided = true;
    let wanted: HeadDecision = true;
    try {
      wanted = options.onHead ? options.onHead(res.statusCode, headerPairs(res.getHeaders())) : true;
    } catch {
      wanted = false;
    }
    if (typeof wanted === 'object' && wanted !== null) {
      replacement = wanted.replaceWith;
      abandon('replaced');
      return;
    }
    capturing = wanted === true;
    if (!capturing) abandon('not-captured');
  };

  const take = (chunk: unknown, encoding?: BufferEncoding | WriteCallback) => {
    decide();
    if (!capturing) return;
    const buf = toBuffer(chunk, encoding);
    if (!buf || buf.length === 0) return;
    size += buf.length;
    if (size > options.maxBytes) {
      abandon('too-large');
      return;
    }
    // Copy: callers may reuse their buffer after write() returns.
    chunks.push(Buffer.from(buf));
  };

  // writeHead(status, [message], [headers]) may carry headers that never go
  // through setHeader (Node's fast path); move them there so getHeaders()
  // sees them, then decide with the final status and headers.
  res.writeHead = function (this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    let message: string | undefined;
    let headers: unknown;
    if (typeof rest[0] === 'string') {
      message = rest[0];
      headers = rest[1];
    } else {
      headers = rest[0];
    }
    if (!this.headersSent && headers) {
      if (Array.isArray(headers)) {
        // [name, value, name, value, ...] or [[name, value], ...]
        const flat = Array.isArray(headers[0]) ? (headers as string[][]).flat() : (headers as string[]);
        const grouped = new Map<string, string[]>();
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const name = String(flat[i]);
          grouped.set(name, [...(grouped.get(name) ?? []), String(flat[i + 1])]);
        }
        for (const [name, values] of grouped) this.setHeader(name, values.length === 1 ? values[0]! : values);
      } else if (typeof headers === 'object') {
        for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
          if (value !== undefined) this.setHeader(name, value as string | string[] | number);
        }
      }
    }
    this.statusCode = statusCode;
    if (message !== undefined) this.statusMessage = message;
    decide();
    if (replacement) return this;
    return message !== undefined
      ? (origWriteHead as (s: number, m: string) => ServerResponse).call(this, statusCode, message)
      : origWriteHead.call(this, statusCode);
  } as typeof res.writeHead;

  res.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown, cb?: unknown) {
    take(chunk, encoding as BufferEncoding | WriteCallback);
    if (replacement) {
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') process.nextTick(done as WriteCallback);
      return true;
    }
    return (origWrite as (...a: unknown[]) => boolean).call(this, chunk, encoding, cb);
  } as typeof res.write;

  res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, cb?: unknown) {
    if (typeof chunk === 'function') {
      cb = chunk;
      chunk = undefined;
      encoding = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    // Restore first: a second end() from the app goes straight through.
    res.writeHead = origWriteHead;
    res.write = origWrite;
    res.end = origEnd;
    take(chunk, encoding as BufferEncoding | undefined);
    if (replacement) {
      sendReplacement(res, replacement, origWriteHead, origEnd, cb);
      return res;
    }
    const release = () => {
      (origEnd as (...a: unknown[]) => ServerResponse).call(res, ...[chunk, encoding, cb].filter((a) => a !== undefined));
    };
    if (!capturing || finished) {
      release();
      return res;
    }
    finished = true;
    const captured: CapturedResponse = {
      status: res.statusCode,
      headers: headerPairs(res.getHeaders()),
      body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
    };
    let timer: NodeJS.Timeout | undefined;
    let released = false;
    const once = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      release();
    };
    timer = setTimeout(once, options.timeout);
    try {
      Promise.resolve(options.onEnd(captured)).then(once, once);
    } catch {
      once();
    }
    return res;
  } as typeof res.end;

  res.once('error', () => abandon('error'));

  return {
    replace(response: CapturedResponse): boolean {
      if (res.headersSent || res.writableEnded || decided) return false;
      decided = true;
      replacement = response;
      abandon('replaced');
      res.writeHead = origWriteHead;
      res.write = origWrite;
      res.end = origEnd;
      sendReplacement(res, response, origWriteHead, origEnd, undefined);
      // The app is still running and will answer later: nothing it does may reach the client now.
      const self = () => res;
      const done = (...args: unknown[]) => {
        const cb = args.find((a) => typeof a === 'function') as WriteCallback | undefined;
        if (cb) process.nextTick(cb);
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
    },
  };
}
