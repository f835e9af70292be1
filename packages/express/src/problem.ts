import type { PlainResponse } from '@rediskit/core';
import type { Response } from 'express';

/** Writes a core {@link PlainResponse} (problem+json and friends) to an Express response. */
export function sendPlain(res: Response, plain: PlainResponse): void {
  res.status(plain.status);
  for (const [name, value] of Object.entries(plain.headers)) res.setHeader(name, value);
  res.end(plain.body);
}
