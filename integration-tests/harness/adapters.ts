/**
 * The three adapters every behaviour suite runs through:
 *
 *   describe.each(ADAPTERS)('%s', (adapter) => { ... });
 *
 * A suite builds the same routes for each adapter (see ./nest.ts for Nest
 * controllers made at run time) and asserts identical behaviour.
 */
export const ADAPTERS = ['express', 'koa', 'nestjs'] as const;
export type AdapterName = (typeof ADAPTERS)[number];
