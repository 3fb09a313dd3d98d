/**
 * The shared services the test suites use (PostgreSQL, MariaDB, Redis, memcached, Redis Cluster, each
 * started once for the machine by scripts/start-services.sh): their addresses, and the rule for a
 * missing one — the suite is skipped loudly, except under CI=true, where a missing service is a failure.
 */
import { Socket } from 'node:net';

export const IN_CI = process.env.CI === 'true';

/** Resolves true when something accepts TCP connections on host:port within `timeoutMs`. */
export function reachable(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
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
  return loudSkip(`${name} is not reachable on ${host}:${port}`, 'start it to run this suite', 'it');
}

/**
 * The reason a suite is skipped, written to stderr so that no skip goes unnoticed; under CI=true a
 * throw instead (.ci/run provides everything the suites need).
 */
export function loudSkip(message: string, remedy: string, needed: 'it' | 'them'): string {
  if (IN_CI) throw new Error(`${message} — CI=true requires ${needed} (see .ci/run)`);
  const reason = `SKIPPED: ${message}; ${remedy}`;
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
