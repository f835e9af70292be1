// Every scenario, in report order.
import { scenarios as cache } from './cache.mjs';
import { scenarios as idempotency } from './idempotency.mjs';
import { scenarios as locks } from './locks.mjs';
import { scenarios as rateLimit } from './rate-limit.mjs';
import { scenarios as session } from './session.mjs';

export const allScenarios = [...cache, ...rateLimit, ...session, ...idempotency, ...locks];
