/**
 * Private server processes for the reliability scripts: redis-server, memcached and a throwaway
 * PostgreSQL cluster, each on a spare 127.0.0.1 port, each stoppable, freezable and restartable, and
 * each torn down at exit (see cleanup.ts). The shared services (Redis 6379, PostgreSQL 5432) are never
 * touched.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { sparePort } from '../../tools/services.js';

export { sparePort };

import { atExit } from './cleanup.js';

const run = promisify(execFile);

/** Resolves true when something accepts TCP connections on host:port within 500 ms. */
export function listening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/** The path of an executable found in PATH or in `extraDirs`, or undefined. */
export function findBinary(name: string, extraDirs: readonly string[] = []): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...extraDirs]) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

function postgresBinDirs(): string[] {
  try {
    return readdirSync('/usr/lib/postgresql')
      .sort()
      .reverse()
      .map((version) => `/usr/lib/postgresql/${version}/bin`);
  } catch {
    return [];
  }
}

/** Names of the server binaries the reliability runs need that this machine lacks. */
export function missingBinaries(): string[] {
  const wanted: Array<[string, string[]]> = [
    ['redis-server', []],
    ['memcached', []],
    ['initdb', postgresBinDirs()],
    ['pg_ctl', postgresBinDirs()],
  ];
  return wanted.filter(([name, dirs]) => findBinary(name, dirs) === undefined).map(([name]) => name);
}

async function waitListening(
  port: number,
  child: ChildProcess | undefined,
  log: () => string,
  host = '127.0.0.1',
): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`server on port ${port} exited: ${log().trim()}`);
    }
    if (await listening(port, host)) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on port ${port} after 10 s: ${log().trim()}`);
}

/** A child process that can be started again with the same arguments. */
export class Restartable {
  #child: ChildProcess | undefined;
  #output = '';
  readonly #unregister: () => void;

  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly port: number,
    readonly host = '127.0.0.1',
  ) {
    this.#unregister = atExit(() => {
      const pid = this.#child?.pid;
      if (pid !== undefined && this.running) process.kill(pid, 'SIGKILL');
    });
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(): Promise<void> {
    const child = spawn(this.command, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const collect = (chunk: unknown) => {
      this.#output = (this.#output + String(chunk)).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    await waitListening(this.port, child, () => this.#output, this.host);
  }

  /** Sends `signal` to the process (SIGSTOP freezes it with its connections open; SIGCONT resumes). */
  signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined || !this.running) throw new Error(`${this.command} is not running`);
    process.kill(pid, signal);
  }

  /** Kills the process with `signal` and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) return;
    const exited = once(child, 'exit');
    // A frozen process handles SIGTERM only once resumed.
    if (signal !== 'SIGKILL') child.kill('SIGCONT');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.kill('SIGKILL');
    this.#unregister();
  }
}

/** A temporary directory removed at exit (or by the returned function). */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  const unregister = atExit(remove);
  return {
    path,
    remove: () => {
      unregister();
      remove();
    },
  };
}

/** A private redis-server. */
export interface RedisProcess {
  readonly port: number;
  /** Whether it runs with `appendonly yes` (every acknowledged write is in the AOF before the reply). */
  readonly persistent: boolean;
  /** SIGSTOP: the process freezes, its connections stay open, commands pile up unanswered. */
  freeze(): void;
  /** SIGCONT after `freeze()`. */
  thaw(): void;
  /** SIGKILL: the process dies at once (no shutdown save). */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (it reloads its AOF when persistent). */
  start(): Promise<void>;
  /** Kills it and removes its directory. */
  close(): Promise<void>;
}

/**
 * Starts `redis-server` on a spare port with its own directory, `--save ""` (no RDB snapshots), and
 * `--appendonly yes` (AOF, `appendfsync everysec`) when `persistent`, else `--appendonly no`.
 */
export async function startRedis(options: { persistent: boolean }): Promise<RedisProcess> {
  const binary = findBinary('redis-server');
  if (binary === undefined) throw new Error('redis-server is not installed');
  const dir = tempDir('sk-reliability-redis-');
  const port = await sparePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    options.persistent ? 'yes' : 'no',
    '--dir',
    dir.path,
    '--daemonize',
    'no',
    '--maxmemory-policy',
    'noeviction',
  ];
  const server = new Restartable(binary, args, port);
  await server.start();
  return {
    port,
    persistent: options.persistent,
    freeze: () => server.signal('SIGSTOP'),
    thaw: () => server.signal('SIGCONT'),
    kill: () => server.kill('SIGKILL'),
    start: () => server.start(),
    async close() {
      await server.close();
      dir.remove();
    },
  };
}

/** A private memcached. */
export interface MemcachedProcess {
  readonly port: number;
  /** `127.0.0.1:<port>`, the memjs server string. */
  readonly address: string;
  /** SIGTERM and wait: every item is gone. */
  stop(): Promise<void>;
  /** Starts a fresh, empty memcached on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts memcached (64 MB) on a spare port. */
export async function startMemcachedProcess(): Promise<MemcachedProcess> {
  const binary = findBinary('memcached');
  if (binary === undefined) throw new Error('memcached is not installed');
  const port = await sparePort();
  const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64'];
  // memcached refuses to run as root unless told which user to run as.
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const server = new Restartable(binary, args, port);
  await server.start();
  return {
    port,
    address: `127.0.0.1:${port}`,
    stop: () => server.kill('SIGTERM'),
    start: () => server.start(),
    close: () => server.close(),
  };
}

/** A throwaway PostgreSQL cluster (initdb in a temp dir, trust auth, user and database `postgres`). */
export interface PostgresProcess {
  readonly port: number;
  /** pg connection settings for it. */
  readonly connection: { host: string; port: number; user: string; database: string };
  /** `pg_ctl stop` with the given mode: `immediate` is a crash (WAL recovery on the next start). */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  /** `pg_ctl start -w`. */
  start(): Promise<void>;
  /** Stops it (immediate) and removes its directory. */
  close(): Promise<void>;
}

/** Uid and gid of a system user, read from /etc/passwd. */
function systemUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [user, , uid, gid] = line.split(':');
      if (user === name && uid !== undefined && gid !== undefined)
        return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // No passwd file: treated as no such user.
  }
  return undefined;
}

/**
 * Creates and starts a PostgreSQL cluster with `initdb` and `pg_ctl` (from PATH or
 * /usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as root, so as root both run as the
 * `postgres` system user through `runuser`.
 */
export async function startPostgres(): Promise<PostgresProcess> {
  const dirs = postgresBinDirs();
  const initdb = findBinary('initdb', dirs);
  const pgCtl = findBinary('pg_ctl', dirs);
  if (initdb === undefined || pgCtl === undefined) {
    throw new Error('initdb/pg_ctl not found in PATH or /usr/lib/postgresql/*/bin: install PostgreSQL');
  }
  const asRoot = process.getuid?.() === 0;
  let prefix: string[] = [];
  const dir = tempDir('sk-reliability-pg-');
  if (asRoot) {
    const owner = systemUser('postgres');
    const runuser = findBinary('runuser', ['/usr/sbin', '/sbin']);
    if (owner === undefined || runuser === undefined) {
      dir.remove();
      throw new Error(
        'running as root: PostgreSQL must run as another user, and this needs a "postgres" system user and runuser',
      );
    }
    chownSync(dir.path, owner.uid, owner.gid);
    prefix = [runuser, '-u', 'postgres', '--'];
  }
  const exec = async (command: string, args: string[]) => {
    const [file, ...rest] = [...prefix, command, ...args];
    if (file === undefined) throw new Error('no command');
    try {
      await run(file, rest, { timeout: 60_000 });
    } catch (error) {
      const details =
        typeof error === 'object' && error !== null && 'stderr' in error ? String(error.stderr) : '';
      throw new Error(`${command} ${args[args.length - 1] ?? ''} failed: ${details.trim() || String(error)}`);
    }
  };
  const data = join(dir.path, 'data');
  const port = await sparePort();
  let pid: number | undefined;
  const unregister = atExit(() => {
    if (pid !== undefined) process.kill(pid, 'SIGQUIT');
  });
  const readPid = () => {
    const first = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0];
    pid = Number(first);
  };
  const options = `-p ${port} -k ${dir.path} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const start = async () => {
    await exec(pgCtl, ['-D', data, '-o', options, '-l', join(dir.path, 'log'), '-w', '-t', '60', 'start']);
    readPid();
  };
  const stop = async (mode: 'fast' | 'immediate') => {
    await exec(pgCtl, ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    pid = undefined;
  };
  try {
    await exec(initdb, [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-N',
      '-E',
      'UTF8',
      '--no-instructions',
    ]);
    await start();
  } catch (error) {
    unregister();
    dir.remove();
    throw error;
  }
  return {
    port,
    connection: { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' },
    stop,
    start,
    async close() {
      if (pid !== undefined) await stop('immediate').catch(() => undefined);
      unregister();
      dir.remove();
    },
  };
}
