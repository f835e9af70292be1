import type { ServerResponse } from 'node:http';

/** How a response ended: its status, and whether the client went away before it was complete. */
export interface ResponseEnd {
  status: number;
  aborted: boolean;
}

/**
 * Calls `done` exactly once when `res` has been sent (`finish`) or the
 * connection closed first (`close` without `finish`: aborted). Works for
 * Express, Koa and Nest on Express, which all end in a Node `ServerResponse`.
 *
 * @example
 * onResponseEnd(res, ({ status, aborted }) => {
 *   if (aborted || status >= 400) void limiter.refund(decision);
 * });
 */
export function onResponseEnd(res: ServerResponse, done: (end: ResponseEnd) => void): void {
  let fired = false;
  const fire = (aborted: boolean) => {
    if (fired) return;
    fired = true;
    res.off('finish', onFinish);
    res.off('close', onClose);
    done({ status: res.statusCode, aborted });
  };
  const onFinish = () => fire(false);
  const onClose = () => fire(!res.writableFinished);
  if (res.writableFinished) {
    fire(false);
    return;
  }
  if (res.destroyed) {
    fire(true);
    return;
  }
  res.once('finish', onFinish);
  res.once('close', onClose);
}
