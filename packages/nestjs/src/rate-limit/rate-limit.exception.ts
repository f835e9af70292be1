import { HttpException } from '@nestjs/common';
import type { ProblemDetails } from '@rediskit/core';

/**
 * Thrown by {@link RateLimitGuard} to refuse a request: 429 (quota exceeded)
 * or 503 (Redis unavailable and the limiter fails closed). Its response is
 * the RFC 9457 problem; the guard has already set `Content-Type:
 * application/problem+json`, `Retry-After` and the RateLimit headers on the
 * response, which Nest's default exception filter keeps. A custom filter
 * finds them in `headers`.
 *
 * @example
 * @Catch(RateLimitException)
 * class RateLimitFilter implements ExceptionFilter {
 *   catch(e: RateLimitException, host: ArgumentsHost) {
 *     host.switchToHttp().getResponse().status(e.getStatus()).set(e.headers).json(e.problem);
 *   }
 * }
 */
export class RateLimitException extends HttpException {
  constructor(
    readonly problem: ProblemDetails,
    readonly headers: Readonly<Record<string, string>>,
  ) {
    super(problem, problem.status);
  }
}
