/**
 * A private Redis Cluster that can fail over on demand: 3 masters and 3 replicas on spare 127.0.0.1
 * ports in a temporary directory. (The shared three-master Cluster on 7100–7102 is started by
 * scripts/redis-cluster.sh, before any dependency is installed.)
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { findBinary } from './binaries.js';
import { sparePort } from './ports.js';
import { type ServerProcess, tempDir } from './process.js';
import { redisProcess } from './redis.js';
import {
  ask,
  HOST,
  info,
  inSync,
  killLagging,
  REPLICATION_ARGS,
  type ReplicatedRedis,
  until,
  WAIT_MS,
} from './redis-replication.js';

const run = promisify(execFile);

/** One `CLUSTER NODES` line: id, port, flags, master id. */
interface ClusterNode {
  id: string;
  port: number;
  master: boolean;
  failed: boolean;
  masterId: string;
}

async function clusterNodes(port: number): Promise<ClusterNode[]> {
  return String(await ask(port, 'CLUSTER', 'NODES'))
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = ''] = line.split(' ');
      return {
        id,
        port: Number(address.split('@')[0]?.split(':')[1]),
        master: flags.includes('master'),
        failed: flags.includes('fail'),
        masterId,
      };
    });
}

/** Every node says the cluster is ok and each of the 3 masters has a replica in sync. */
async function clusterReady(ports: readonly number[]): Promise<boolean> {
  for (const port of ports) {
    if ((await info(port, 'CLUSTER', 'INFO')).get('cluster_state') !== 'ok') return false;
  }
  const nodes = await clusterNodes(ports[0] ?? 0);
  const masters = nodes.filter((node) => node.master && !node.failed);
  if (masters.length !== 3) return false;
  for (const master of masters) {
    const replica = nodes.find((node) => node.masterId === master.id && !node.failed);
    if (replica === undefined || !(await inSync(replica.port, master.port))) return false;
  }
  return true;
}

/**
 * A Redis Cluster of 3 masters each with 1 replica, `cluster-node-timeout` `nodeTimeoutMs`,
 * `cluster-replica-validity-factor 0` (a replica may always take over) and
 * `cluster-require-full-coverage no` (the other shards keep serving while one fails over).
 */
export async function startRedisCluster(options: { nodeTimeoutMs: number }): Promise<ReplicatedRedis> {
  const dir = tempDir('sk-redis-cluster-');
  const ports = await Promise.all(Array.from({ length: 6 }, () => sparePort()));
  const servers = new Map<number, ServerProcess>(
    ports.map((port) => {
      const args = [
        ...REPLICATION_ARGS,
        ...['--cluster-enabled', 'yes', '--dbfilename', `dump-${port}.rdb`],
        ...['--cluster-config-file', `nodes-${port}.conf`],
        ...['--cluster-node-timeout', String(options.nodeTimeoutMs)],
        ...['--cluster-replica-validity-factor', '0', '--cluster-require-full-coverage', 'no'],
      ];
      return [port, redisProcess(args, { port, dir: dir.path })];
    }),
  );
  const close = async () => {
    await Promise.all([...servers.values()].map((server) => server.close()));
    dir.remove();
  };
  try {
    await Promise.all([...servers.values()].map((server) => server.start()));
    const cli = findBinary('redis-cli') ?? 'redis-cli';
    const addresses = ports.map((port) => `${HOST}:${port}`);
    await run(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], {
      timeout: WAIT_MS,
    });
    await until('the cluster to be ready', () => clusterReady(ports));
  } catch (error) {
    await close();
    throw error;
  }
  let next = 0;
  return {
    seeds: ports.map((port) => ({ host: HOST, port })),
    async failover(lagMs = 0) {
      const live = [...servers.entries()].filter(([, server]) => server.running).map(([port]) => port);
      const nodes = await clusterNodes(live[0] ?? 0);
      const masters = nodes.filter((node) => node.master && !node.failed).sort((a, b) => a.port - b.port);
      const victim = masters[next++ % masters.length];
      const replica = nodes.find((node) => node.masterId === victim?.id);
      const server = victim === undefined ? undefined : servers.get(victim.port);
      if (victim === undefined || replica === undefined || server === undefined) {
        throw new Error('no master with a replica to fail over');
      }
      const killedAt = await killLagging(server, servers.get(replica.port), lagMs);
      await until(`replica ${replica.port} to be promoted`, async () => {
        const role = await ask(replica.port, 'ROLE');
        return Array.isArray(role) && role[0] === 'master';
      });
      const promotedMs = performance.now() - killedAt;
      // Only now: an empty master restarted before the promotion would keep its slots, empty.
      await server.start();
      await until(`node ${victim.port} to rejoin as a replica`, () => inSync(victim.port, replica.port));
      await until('the cluster to be ready', () => clusterReady(ports));
      return { killedAt, promotedMs, rejoinedMs: performance.now() - killedAt };
    },
    signal: (port, signal) => servers.get(port)?.signal(signal),
    close,
  };
}
