/**
 * Replicated Redis for the failover scenarios: a Redis Cluster (3 masters, 3 replicas) and a Sentinel
 * group (1 master, 1 replica, 3 sentinels), each on spare 127.0.0.1 ports in a temporary directory,
 * each able to fail over on demand: SIGKILL a master, wait until a replica is promoted, restart the
 * old master as a replica and wait until it is in sync. Every wait is bounded.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { findBinary, Restartable, sparePort, tempDir } from './servers.js';

/** What one failover took, in milliseconds from the kill. */
export interface FailoverTimes {
  /** performance.now() of the SIGKILL. */
  killedAt: number;
  /** Until a replica answered as master (Cluster) or the sentinels named the new master. */
  promotedMs: number;
  /** Until the old master, restarted, was a replica in sync again. */
  rejoinedMs: number;
}

/** A replicated Redis that can fail over. */
export interface ReplicatedRedis {
  /** The address clients start from (Cluster nodes or sentinels). */
  readonly seeds: ReadonlyArray<{ host: string; port: number }>;
  /**
   * SIGKILLs a master, waits for the promotion, restarts the old master as a replica. With `lagMs`,
   * the replica to be promoted has missed the master's last `lagMs` of writes (its link dropped, as
   * in a network blip or a replica that fell behind): see `killLagging`.
   */
  failover(lagMs?: number): Promise<FailoverTimes>;
  /** Sends a signal to the data node on `port` (SIGSTOP freezes it, SIGCONT resumes it). */
  signal(port: number, signal: NodeJS.Signals): void;
  close(): Promise<void>;
}

const run = promisify(execFile);
const HOST = '127.0.0.1';
/** Bounds every wait for the servers to reach a state. */
const WAIT_MS = 30_000;

/** Runs one command on one server over a short-lived connection; rejects if it cannot. */
export async function ask(port: number, ...command: string[]): Promise<unknown> {
  const client = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const [name, ...args] = command;
    if (name === undefined) throw new Error('no command');
    return await client.call(name, ...args);
  } finally {
    client.disconnect();
  }
}

/** Polls `check` every 100 ms until it resolves true; throws after `WAIT_MS`. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < WAIT_MS) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
}

async function info(port: number, ...command: string[]): Promise<Map<string, string>> {
  const text = String(await ask(port, ...command));
  return new Map(
    text
      .split('\r\n')
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}

/** Whether the server on `port` is a replica of `masterPort` with its link up and nothing to catch up. */
async function inSync(port: number, masterPort: number): Promise<boolean> {
  const replication = await info(port, 'INFO', 'replication');
  return (
    replication.get('role') === 'slave' &&
    replication.get('master_port') === String(masterPort) &&
    replication.get('master_link_status') === 'up' &&
    replication.get('master_sync_in_progress') === '0'
  );
}

function redisBinary(): string {
  const binary = findBinary('redis-server');
  if (binary === undefined) throw new Error('redis-server is not installed');
  return binary;
}

const BASE_ARGS = [
  ...['--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
  // A replica that (re)joins syncs at once rather than after the default 5 s of waiting for others.
  ...['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', '--repl-diskless-load', 'swapdb'],
];

/**
 * With `lagMs`: freezes `replica` and has the master drop its link to it (the bytes already in the
 * replica's socket still arrive; nothing after does), waits `lagMs` while the master acknowledges
 * writes no replica has, then SIGKILLs the master and resumes the replica. Resolves the kill's time.
 */
async function killLagging(
  master: Restartable,
  replica: Restartable | undefined,
  lagMs: number,
): Promise<number> {
  if (lagMs > 0) {
    replica?.signal('SIGSTOP');
    await ask(master.port, 'CLIENT', 'KILL', 'TYPE', 'replica').catch(() => undefined);
    await sleep(lagMs);
  }
  const killedAt = performance.now();
  try {
    await master.kill('SIGKILL');
  } finally {
    if (lagMs > 0) replica?.signal('SIGCONT');
  }
  return killedAt;
}

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

/**
 * A Redis Cluster of 3 masters each with 1 replica, `cluster-node-timeout` `nodeTimeoutMs`,
 * `cluster-replica-validity-factor 0` (a replica may always take over) and
 * `cluster-require-full-coverage no` (the other shards keep serving while one fails over).
 */
export async function startRedisCluster(options: { nodeTimeoutMs: number }): Promise<ReplicatedRedis> {
  const binary = redisBinary();
  const dir = tempDir('sk-failover-cluster-');
  const ports = await Promise.all(Array.from({ length: 6 }, () => sparePort()));
  const servers = new Map(
    ports.map((port) => {
      const args = [
        '--port',
        String(port),
        ...BASE_ARGS,
        '--dir',
        dir.path,
        '--cluster-enabled',
        'yes',
        '--dbfilename',
        `dump-${port}.rdb`,
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        String(options.nodeTimeoutMs),
        '--cluster-replica-validity-factor',
        '0',
        '--cluster-require-full-coverage',
        'no',
      ];
      return [port, new Restartable(binary, args, port)];
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

/** The master's name the sentinels monitor. */
export const SENTINEL_MASTER = 'skmaster';

/**
 * One master and one replica watched by three sentinels (quorum 2, `down-after-milliseconds`
 * `downAfterMs`). Sentinel runs as `redis-server <conf> --sentinel` (no separate binary needed).
 */
export async function startSentinelGroup(options: { downAfterMs: number }): Promise<ReplicatedRedis> {
  const binary = redisBinary();
  const dir = tempDir('sk-failover-sentinel-');
  const [first = 0, second = 0] = await Promise.all([sparePort(), sparePort()]);
  const dataArgs = (port: number, master?: number) => [
    '--port',
    String(port),
    ...BASE_ARGS,
    '--dir',
    dir.path,
    '--dbfilename',
    `dump-${port}.rdb`,
    ...(master === undefined ? [] : ['--replicaof', HOST, String(master)]),
  ];
  const data = new Map<number, Restartable>([
    [first, new Restartable(binary, dataArgs(first), first)],
    [second, new Restartable(binary, dataArgs(second, first), second)],
  ]);
  const sentinelPorts = await Promise.all([sparePort(), sparePort(), sparePort()]);
  const sentinels = sentinelPorts.map((port) => {
    const file = join(dir.path, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${dir.path}`,
        `sentinel monitor ${SENTINEL_MASTER} ${HOST} ${first} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER} ${options.downAfterMs}`,
        `sentinel failover-timeout ${SENTINEL_MASTER} 3000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
        '',
      ].join('\n'),
    );
    return new Restartable(binary, [file, '--sentinel'], port);
  });
  const close = async () => {
    await Promise.all([...sentinels, ...data.values()].map((server) => server.close()));
    dir.remove();
  };
  const masterPort = async () => {
    const reply = await ask(sentinelPorts[0] ?? 0, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER);
    return Array.isArray(reply) ? Number(reply[1]) : 0;
  };
  /** Every sentinel names `master`, knows the other two sentinels and one replica. */
  const settled = async (master: number) => {
    for (const port of sentinelPorts) {
      const reply = await ask(port, 'SENTINEL', 'MASTER', SENTINEL_MASTER);
      const fields = Array.isArray(reply) ? reply.map(String) : [];
      const field = (name: string) => fields[fields.indexOf(name) + 1];
      if (field('port') !== String(master) || field('num-other-sentinels') !== '2') return false;
      if (field('num-slaves') !== '1' || (field('flags') ?? '').includes('down')) return false;
    }
    return true;
  };
  try {
    await Promise.all([...data.values()].map((server) => server.start()));
    await until('the replica to sync', () => inSync(second, first));
    await Promise.all(sentinels.map((sentinel) => sentinel.start()));
    await until('the sentinels to agree', () => settled(first));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    seeds: sentinelPorts.map((port) => ({ host: HOST, port })),
    async failover(lagMs = 0) {
      const old = await masterPort();
      const server = data.get(old);
      const promoted = [...data.keys()].find((port) => port !== old);
      if (server === undefined || promoted === undefined) throw new Error(`unknown master ${old}`);
      const killedAt = await killLagging(server, data.get(promoted), lagMs);
      await until('the sentinels to promote the replica', async () => (await masterPort()) === promoted);
      const promotedMs = performance.now() - killedAt;
      // Restarted as a replica of the new master at once: an empty master must never serve.
      const restarted = new Restartable(binary, dataArgs(old, promoted), old);
      data.set(old, restarted);
      await server.close();
      await restarted.start();
      await until(`${old} to sync from ${promoted}`, () => inSync(old, promoted));
      await until('the sentinels to settle', () => settled(promoted));
      return { killedAt, promotedMs, rejoinedMs: performance.now() - killedAt };
    },
    signal: (port, signal) => data.get(port)?.signal(signal),
    close,
  };
}

/** The two replicated setups of the failover scenarios. */
export type ReplicatedKind = 'cluster' | 'sentinel';

/** Starts a Cluster (node timeout 1 s) or a Sentinel group (down after 1 s). */
export function startReplicated(kind: ReplicatedKind): Promise<ReplicatedRedis> {
  return kind === 'cluster'
    ? startRedisCluster({ nodeTimeoutMs: 1000 })
    : startSentinelGroup({ downAfterMs: 1000 });
}
