import { coreFeature } from './core';
import { lockFeature } from './lock';
import type { DemoFeature } from './types';

// Each feature issue adds its demo module here.
export const features: DemoFeature[] = [coreFeature, lockFeature];
export type { DemoFeature, DemoRoute } from './types';
