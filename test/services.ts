/**
 * Finds the external services the tests need. Without a service a suite is skipped with a loud
 * message, except under CI=true, where a missing service is a failure.
 */
import { once } from 'node:events';
import { createServer, Socket } from 'node:net';

export const IN_CI = process.env.CI === 'true';

/** Resolves true when something accepts TCP connections on host:port within 1 s. */
export function reachable(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/**
 * Returns the `skip` option for a describe(): false when the service is up; a loud reason when it
 * is not. Under CI=true a missing service throws, which fails the run.
 */
export async function serviceSkip(name: string, port: number, host = '127.0.0.1'): Promise<false | string> {
  if (await reachable(port, host)) return false;
  const message = `${name} is not reachable on ${host}:${port}`;
  if (IN_CI) throw new Error(`${message} — CI=true requires it (see .ci/run)`);
  const reason = `SKIPPED: ${message}; start it to run this suite`;
  process.stderr.write(`\n!!! ${reason} !!!\n\n`);
  return reason;
}

/** Connection settings, overridable by environment variables. */
export const services = {
  postgres: {
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
    database: process.env.PGDATABASE ?? 'test',
  },
  mysql: {
    host: process.env.MYSQL_HOST ?? '127.0.0.1',
    port: Number(process.env.MYSQL_PORT ?? 3306),
    user: process.env.MYSQL_USER ?? 'root',
    database: process.env.MYSQL_DATABASE ?? 'test',
  },
  redis: { host: '127.0.0.1', port: Number(process.env.REDIS_PORT ?? 6379) },
  memcached: { host: '127.0.0.1', port: Number(process.env.MEMCACHED_PORT ?? 11211) },
  /** First port of the three-master Redis Cluster that .ci/run (or scripts/redis-cluster.sh) starts. */
  redisCluster: { host: '127.0.0.1', port: Number(process.env.REDIS_CLUSTER_PORT ?? 7100) },
} as const;

/** A 127.0.0.1 port nothing listens on right now (for servers a test starts itself). */
export async function sparePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no spare port');
  return address.port;
}
