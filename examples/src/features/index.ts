import { coreFeature } from './core';
import type { DemoFeature } from './types';

// Each feature issue adds its demo module here.
export const features: DemoFeature[] = [coreFeature];
export type { DemoFeature, DemoRoute } from './types';
