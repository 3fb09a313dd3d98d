/**
 * A private Sentinel group that can fail over on demand: 1 master, 1 replica and 3 sentinels on spare
 * 127.0.0.1 ports in a temporary directory. Sentinel runs as `redis-server <conf> --sentinel` (no
 * separate binary needed).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sparePort } from './ports.js';
import { ServerProcess, tempDir } from './process.js';
import { redisProcess, redisServerBinary } from './redis.js';
import {
  ask,
  HOST,
  inSync,
  killLagging,
  REPLICATION_ARGS,
  type ReplicatedRedis,
  until,
} from './redis-replication.js';

/** The master's name the sentinels monitor. */
export const SENTINEL_MASTER = 'skmaster';

/** One master and one replica watched by three sentinels (quorum 2, `down-after-milliseconds` `downAfterMs`). */
export async function startSentinelGroup(options: { downAfterMs: number }): Promise<ReplicatedRedis> {
  const dir = tempDir('sk-redis-sentinel-');
  const [first = 0, second = 0] = await Promise.all([sparePort(), sparePort()]);
  const dataNode = (port: number, master?: number) =>
    redisProcess(
      [
        ...REPLICATION_ARGS,
        ...['--dbfilename', `dump-${port}.rdb`],
        ...(master === undefined ? [] : ['--replicaof', HOST, String(master)]),
      ],
      { port, dir: dir.path },
    );
  const data = new Map<number, ServerProcess>([
    [first, dataNode(first)],
    [second, dataNode(second, first)],
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
    return new ServerProcess(redisServerBinary(), [file, '--sentinel'], port);
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
      const restarted = dataNode(old, promoted);
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
