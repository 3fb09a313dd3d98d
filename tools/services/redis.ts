/**
 * A private redis-server for code that fills, misconfigures, freezes or kills one: a child process on
 * a spare port with its own directory, never the shared instance.
 */
import { findBinary } from './binaries.js';
import { sparePort } from './ports.js';
import { type ManagedServer, managed, ServerProcess, tempDir } from './process.js';

/** Options of `startRedisServer` and `redisProcess`. */
export interface RedisServerOptions {
  /** @default a spare one */
  port?: number;
  /** The address it binds to and is reached at. @default '127.0.0.1' */
  host?: string;
  /**
   * `--appendonly yes` (AOF, `appendfsync everysec`): every acknowledged write is in the AOF before
   * the reply, and a restarted server reloads it. @default false (`--appendonly no`)
   */
  persistent?: boolean;
  /** Its working directory (AOF, RDB, cluster config). @default a temporary one, removed on close */
  dir?: string;
  /** Command and arguments that run redis-server, e.g. `['ip', 'netns', 'exec', 'store']`. @default none */
  launcher?: readonly string[];
}

/** A running private redis-server. */
export interface RedisServer extends ManagedServer {
  readonly host: string;
  /** Whether it runs with `appendonly yes`. */
  readonly persistent: boolean;
}

/** The redis-server path; throws when it is not installed. */
export function redisServerBinary(): string {
  const binary = findBinary('redis-server');
  if (binary === undefined) throw new Error('redis-server is not installed');
  return binary;
}

/**
 * A redis-server process, not yet started: `--port P --bind H --save "" --appendonly no|yes --dir D
 * --daemonize no` (no RDB snapshots) followed by `extraArgs`, which override them.
 */
export function redisProcess(
  extraArgs: readonly string[],
  options: RedisServerOptions & { port: number; dir: string },
): ServerProcess {
  const host = options.host ?? '127.0.0.1';
  const args = [
    ...['--port', String(options.port), '--bind', host, '--save', ''],
    ...['--appendonly', options.persistent === true ? 'yes' : 'no', '--dir', options.dir],
    ...['--daemonize', 'no', ...extraArgs],
  ];
  const binary = redisServerBinary();
  const [command, ...prefix] = options.launcher ?? [];
  if (command === undefined) return new ServerProcess(binary, args, options.port, host);
  return new ServerProcess(command, [...prefix, binary, ...args], options.port, host);
}

/**
 * Starts a private redis-server (see `redisProcess`) with `extraArgs` (e.g. `['--maxmemory', '2mb',
 * '--maxmemory-policy', 'allkeys-lru']`) and waits (at most 10 s) until it listens.
 */
export async function startRedisServer(
  extraArgs: readonly string[] = [],
  options: RedisServerOptions = {},
): Promise<RedisServer> {
  const port = options.port ?? (await sparePort());
  let dir = options.dir;
  let removeDir: () => void = () => undefined;
  if (dir === undefined) {
    const temporary = tempDir('sk-redis-');
    dir = temporary.path;
    removeDir = temporary.remove;
  }
  const server = redisProcess(extraArgs, { ...options, port, dir });
  try {
    await server.start();
  } catch (error) {
    await server.close();
    removeDir();
    throw error;
  }
  return {
    ...managed(server, removeDir),
    host: server.host,
    persistent: options.persistent === true,
  };
}
