import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** A request to run through an app without a client: a background refresh. */
export interface InjectedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  remoteAddress?: string;
}

/**
 * Runs `dispatch` (an Express app, `koaApp.callback()`, any Node request
 * listener) on a request that has no client: Node's own `IncomingMessage`
 * and `ServerResponse` over a socket that discards what is written. Resolves
 * when the response finished, closed, or after `timeoutMs`; never rejects.
 */
export function injectRequest(
  dispatch: (req: IncomingMessage, res: ServerResponse) => unknown,
  spec: InjectedRequest,
  decorate: (req: IncomingMessage) => void,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve) => {
    const socket = new Duplex({
      read() {},
      write(_chunk, _encoding, callback) {
        callback();
      },
      final(callback) {
        callback();
      },
    });
    Object.assign(socket, { remoteAddress: spec.remoteAddress ?? '127.0.0.1', remotePort: 0, encrypted: false });
    const req = new IncomingMessage(socket as unknown as Socket);
    req.method = spec.method;
    req.url = spec.url;
    req.httpVersion = '1.1';
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    req.headers = spec.headers;
    req.rawHeaders = Object.entries(spec.headers).flatMap(([name, value]) =>
      Array.isArray(value) ? value.flatMap((v) => [name, v]) : value === undefined ? [] : [name, String(value)],
    );
    req.push(null);
    (req as { complete: boolean }).complete = true;
    const res = new ServerResponse(req);
    res.assignSocket(socket as unknown as Socket);
    decorate(req);
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    res.once('finish', done);
    res.once('close', done);
    timer = setTimeout(done, timeoutMs);
    timer.unref();
    try {
      const r = dispatch(req, res) as Promise<unknown> | undefined;
      if (r && typeof r.catch === 'function') r.catch(done);
    } catch {
      done();
    }
  });
}
