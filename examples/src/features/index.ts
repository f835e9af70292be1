import { coreFeature } from './core';
import { idempotencyFeature } from './idempotency';
import type { DemoFeature } from './types';

// Each feature issue adds its demo module here.
export const features: DemoFeature[] = [coreFeature, idempotencyFeature];
export type { DemoFeature, DemoRoute } from './types';
