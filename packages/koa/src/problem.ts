import type { PlainResponse } from '@rediskit/core';
import type { Context } from 'koa';

/** Writes a core {@link PlainResponse} (problem+json and friends) to a Koa context. */
export function sendPlain(ctx: Context, plain: PlainResponse): void {
  ctx.status = plain.status;
  for (const [name, value] of Object.entries(plain.headers)) ctx.set(name, value);
  ctx.body = plain.body;
  // ctx.body = string sets text/plain; the plain response names its own type.
  if (plain.headers['content-type']) ctx.type = plain.headers['content-type'];
}
