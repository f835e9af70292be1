// Every scenario, in report order.
import { scenarios as cache } from './cache.mjs';

export const allScenarios = [...cache];
