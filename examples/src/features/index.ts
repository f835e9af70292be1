import { cacheFeature } from './cache';
import { coreFeature } from './core';
import type { DemoFeature } from './types';

// Each feature issue adds its demo module here.
export const features: DemoFeature[] = [coreFeature, cacheFeature];
export type { DemoFeature, DemoRoute } from './types';
