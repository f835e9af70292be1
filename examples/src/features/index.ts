import { coreFeature } from './core';
import { structuresFeature } from './structures';
import type { DemoFeature } from './types';

// Each feature issue adds its demo module here.
export const features: DemoFeature[] = [coreFeature, structuresFeature];
export type { DemoFeature, DemoRoute } from './types';
