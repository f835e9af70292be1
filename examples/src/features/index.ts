import { cacheFeature } from './cache';
import { coreFeature } from './core';
import { idempotencyFeature } from './idempotency';
import { lockFeature } from './lock';
import { rateLimitFeature } from './rate-limit';
import { sessionFeature } from './session';
import { streamsFeature } from './streams';
import { structuresFeature } from './structures';
import type { DemoFeature } from './types';

// Each feature adds its demo module here, one line each.
export const features: DemoFeature[] = [
  coreFeature,
  cacheFeature,
  idempotencyFeature,
  lockFeature,
  rateLimitFeature,
  sessionFeature,
  streamsFeature,
  structuresFeature,
];
export type { DemoFeature, DemoRoute } from './types';
