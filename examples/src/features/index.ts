import { coreFeature } from './core';
import { streamsFeature } from './streams';
import type { DemoFeature } from './types';

// Each feature issue adds its demo module here.
export const features: DemoFeature[] = [coreFeature, streamsFeature];
export type { DemoFeature, DemoRoute } from './types';
