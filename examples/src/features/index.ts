import { coreFeature } from './core';
import { sessionFeature } from './session';
import type { DemoFeature } from './types';

// Each feature issue adds its demo module here.
export const features: DemoFeature[] = [coreFeature, sessionFeature];
export type { DemoFeature, DemoRoute } from './types';
