/**
 * The services tests, benchmarks, reliability runs and scripts need: the shared ones (found, or the
 * suite skipped loudly — except under CI=true, where a missing service is a failure), spare ports,
 * and private servers started on them (never the shared instances).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

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

/*
 * A private redis-server for code that fills, misconfigures or stops one: a child process on a spare
 * 127.0.0.1 port with no persistence.
 */

/** A running private redis-server. */
export interface RedisServer {
  readonly port: number;
  /** Stops it (SIGTERM, then SIGKILL after 2 s); its data is gone. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server --port P --save "" --appendonly no --daemonize no` plus `extraArgs` (e.g.
 * `['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru']`) and waits (at most 5 s) until it listens.
 */
export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServer> {
  const port = await sparePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = await launch([...args, '--daemonize', 'no', ...extraArgs], port);
  return {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function launch(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: unknown) => {
    output = (output + String(chunk)).slice(-2000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let failed: Error | undefined;
  child.once('error', (error) => {
    failed = error;
  });
  for (let waited = 0; waited < 5000; waited += 50) {
    if (failed !== undefined) throw new Error(`redis-server could not start: ${failed.message}`);
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output.trim()}`);
    if (await reachable(port)) return child;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port} within 5 s: ${output.trim()}`);
}
