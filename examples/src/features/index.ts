import { coreFeature } from './core';
import { rateLimitFeature } from './rate-limit';
import type { DemoFeature } from './types';

// Each feature issue adds its demo module here.
export const features: DemoFeature[] = [coreFeature, rateLimitFeature];
export type { DemoFeature, DemoRoute } from './types';
