import { adminClient, waitFor } from './admin';
import { freePort } from './ports';
import { RedisProcess } from './redis-process';

/** A running local Redis Cluster started by {@link startCluster}. */
export interface StartedCluster {
  /** Seed nodes for ioredis `new Cluster(nodes)` or `createRedisKit({ cluster: { nodes } })`. */
  readonly nodes: Array<{ host: string; port: number }>;
  /** Every node's process (masters first). */
  readonly processes: RedisProcess[];
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  /** Number of masters. Default 3. */
  masters?: number;
  /** Replicas per master. Default 1. */
  replicas?: number;
}

const SLOTS = 16384;

/**
 * Starts a local Redis Cluster (default 3 masters and 3 replicas) on free
 * loopback ports and resolves once every node reports `cluster_state:ok`.
 * Built with CLUSTER ADDSLOTSRANGE / MEET / REPLICATE, so it needs only
 * `redis-server` (no redis-cli). Takes about 2-4 s.
 *
 * @example
 * const cluster = await startCluster();
 * const kit = createRedisKit({ cluster: { nodes: cluster.nodes } });
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<StartedCluster> {
  const masterCount = options.masters ?? 3;
  const replicasPer = options.replicas ?? 1;
  const total = masterCount * (1 + replicasPer);
  const processes: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
  };
  try {
    for (let i = 0; i < total; i++) {
      const bus = await freePort();
      const proc = new RedisProcess({
        args: [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', 'nodes.conf',
          '--cluster-node-timeout', '2000',
          '--cluster-port', String(bus),
          '--cluster-require-full-coverage', 'yes',
        ],
      });
      processes.push(proc);
    }
    await Promise.all(processes.map((p) => p.start()));
    const clients = processes.map((p) => adminClient(p.host, p.port));
    try {
      const ids = await Promise.all(clients.map((c) => c.call('CLUSTER', 'MYID') as Promise<string>));
      const busPorts = await Promise.all(
        clients.map(async (c) => Number(((await c.config('GET', 'cluster-port')) as string[])[1])),
      );
      const per = Math.floor(SLOTS / masterCount);
      for (let m = 0; m < masterCount; m++) {
        const start = m * per;
        const end = m === masterCount - 1 ? SLOTS - 1 : start + per - 1;
        await clients[m]!.call('CLUSTER', 'ADDSLOTSRANGE', start, end);
      }
      for (let i = 1; i < total; i++) {
        await clients[0]!.call('CLUSTER', 'MEET', '127.0.0.1', processes[i]!.port, busPorts[i]!);
      }
      await waitFor('all cluster nodes to know each other', async () => {
        const views = await Promise.all(clients.map((c) => c.call('CLUSTER', 'NODES') as Promise<string>));
        return views.every((v) => v.trim().split('\n').filter((l) => !/handshake|noaddr/.test(l)).length === total);
      });
      for (let r = 0; r < masterCount * replicasPer; r++) {
        const replicaIndex = masterCount + r;
        const masterIndex = r % masterCount;
        await clients[replicaIndex]!.call('CLUSTER', 'REPLICATE', ids[masterIndex]!);
      }
      await waitFor('cluster_state:ok on every node', async () => {
        const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO') as Promise<string>));
        return infos.every((i) => i.includes('cluster_state:ok') && i.includes(`cluster_slots_ok:${SLOTS}`));
      });
      await waitFor('replicas to sync', async () => {
        const infos = await Promise.all(
          clients.slice(masterCount).map((c) => c.info('replication') as Promise<string>),
        );
        return infos.every((i) => i.includes('master_link_status:up'));
      });
    } finally {
      clients.forEach((c) => c.disconnect());
    }
    return {
      nodes: processes.map((p) => ({ host: p.host, port: p.port })),
      processes,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
