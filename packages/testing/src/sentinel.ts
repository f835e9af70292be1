import { adminClient, waitFor } from './admin';
import { RedisProcess } from './redis-process';

/** A master, a replica and sentinels started by {@link startSentinel}. */
export interface StartedSentinel {
  /** For `createRedisKit({ sentinel: { sentinels, name } })`. */
  readonly sentinels: Array<{ host: string; port: number }>;
  /** The master group name. */
  readonly name: string;
  readonly servers: RedisProcess[];
  readonly sentinelProcesses: RedisProcess[];
  /** Address of the current master, as the sentinels see it. */
  master(): Promise<{ host: string; port: number }>;
  /**
   * Runs `SENTINEL FAILOVER` and resolves once the sentinels name the former
   * replica as master and it accepts writes.
   */
  failover(): Promise<{ host: string; port: number }>;
  stop(): Promise<void>;
}

export interface StartSentinelOptions {
  /** Number of sentinels. Default 1. */
  sentinels?: number;
  /** Master group name. Default `'rediskit'`. */
  name?: string;
}

/**
 * Starts a Sentinel setup on loopback: a master, one replica and (default)
 * one sentinel, with short failure timeouts so failover tests run in seconds.
 *
 * @example
 * const s = await startSentinel();
 * const kit = createRedisKit({ sentinel: { sentinels: s.sentinels, name: s.name } });
 * await s.failover();
 */
export async function startSentinel(options: StartSentinelOptions = {}): Promise<StartedSentinel> {
  const name = options.name ?? 'rediskit';
  const count = options.sentinels ?? 1;
  const master = new RedisProcess();
  const servers: RedisProcess[] = [master];
  const sentinelProcesses: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all([...sentinelProcesses, ...servers].map((p) => p.stop()));
  };
  try {
    await master.start();
    const replica = new RedisProcess({ args: ['--replicaof', master.host, String(master.port)] });
    servers.push(replica);
    await replica.start();
    const replicaAdmin = adminClient(replica.host, replica.port);
    try {
      await waitFor('the replica to sync', async () =>
        ((await replicaAdmin.info('replication')) as string).includes('master_link_status:up'),
      );
    } finally {
      replicaAdmin.disconnect();
    }
    const quorum = Math.floor(count / 2) + 1;
    for (let i = 0; i < count; i++) {
      const proc = new RedisProcess({
        sentinelConfig: [
          `sentinel monitor ${name} ${master.host} ${master.port} ${quorum}`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
        ].join('\n'),
      });
      sentinelProcesses.push(proc);
    }
    await Promise.all(sentinelProcesses.map((p) => p.start()));
    const admins = sentinelProcesses.map((p) => adminClient(p.host, p.port));
    try {
      await waitFor('sentinels to discover the replica', async () => {
        const lists = await Promise.all(admins.map((a) => a.call('SENTINEL', 'REPLICAS', name) as Promise<unknown[]>));
        return lists.every((l) => l.length >= 1);
      });
    } finally {
      admins.forEach((a) => a.disconnect());
    }
    const sentinels = sentinelProcesses.map((p) => ({ host: p.host, port: p.port }));
    const masterAddr = async () => {
      const a = adminClient(sentinels[0]!.host, sentinels[0]!.port);
      try {
        const [host, port] = (await a.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
        return { host, port: Number(port) };
      } finally {
        a.disconnect();
      }
    };
    return {
      sentinels,
      name,
      servers,
      sentinelProcesses,
      master: masterAddr,
      async failover() {
        const before = await masterAddr();
        const a = adminClient(sentinels[0]!.host, sentinels[0]!.port);
        try {
          await waitFor('SENTINEL FAILOVER to be accepted', async () => {
            try {
              await a.call('SENTINEL', 'FAILOVER', name);
              return true;
            } catch (error) {
              // NOGOODSLAVE while the replica's state is still being refreshed.
              if (/INPROG|NOGOODSLAVE/.test(String(error))) return false;
              throw error;
            }
          });
        } finally {
          a.disconnect();
        }
        let after = before;
        await waitFor('the sentinels to name a new master', async () => {
          after = await masterAddr();
          return after.port !== before.port;
        });
        const m = adminClient(after.host, after.port);
        try {
          await waitFor('the new master to accept writes', async () =>
            ((await m.info('replication')) as string).includes('role:master'),
          );
        } finally {
          m.disconnect();
        }
        return after;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
