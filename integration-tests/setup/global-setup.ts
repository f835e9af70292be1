import { startSharedServers } from '../../packages/testing/src/index';

// One standalone Redis and one 6-node Cluster for the whole run; tests isolate
// themselves with uniquePrefix(). Tests that stop or pause Redis start their own.
export default async function globalSetup(): Promise<void> {
  (globalThis as { __rediskitTeardown?: () => Promise<void> }).__rediskitTeardown = await startSharedServers({
    cluster: process.env.REDISKIT_TEST_NO_CLUSTER !== '1',
  });
}
