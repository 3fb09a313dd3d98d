/**
 * A throwaway PostgreSQL cluster for scenarios and tests that stop, crash or restart one: `initdb` in a
 * temporary directory, `pg_ctl` on a spare 127.0.0.1 port, trust authentication, user and database
 * `postgres`. The shared PostgreSQL (5432) is never touched.
 */
import { type ExecFileOptions, execFile } from 'node:child_process';
import { chownSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { atExit } from '../cleanup.js';
import { findPostgresBinary } from './binaries.js';
import { sparePort } from './ports.js';
import { tempDir } from './process.js';

const run = promisify(execFile);

/** A running throwaway PostgreSQL cluster. */
export interface PostgresServer {
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
      if (user === name && uid !== undefined && gid !== undefined) {
        return { uid: Number(uid), gid: Number(gid) };
      }
    }
  } catch {
    // No passwd file: treated as no such user.
  }
  return undefined;
}

/**
 * Who runs the cluster. PostgreSQL refuses to run as root, so as root initdb and pg_ctl run as the
 * `postgres` system user (the PostgreSQL packages create it) or else as `nobody`, which every Linux
 * has: a fresh machine where root runs the tests needs no user created for them.
 */
function clusterOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const owner = systemUser('postgres') ?? systemUser('nobody');
  if (owner === undefined) {
    throw new Error(
      'running as root: PostgreSQL must run as another user, and neither "postgres" nor "nobody" exists',
    );
  }
  return owner;
}

/**
 * Creates and starts a PostgreSQL cluster with `initdb` and `pg_ctl` (from PATH or
 * /usr/lib/postgresql/<version>/bin) and waits (at most 60 s) until it accepts connections.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const initdb = findPostgresBinary('initdb');
  const pgCtl = findPostgresBinary('pg_ctl');
  if (initdb === undefined || pgCtl === undefined) {
    throw new Error('initdb/pg_ctl not found in PATH or /usr/lib/postgresql/*/bin: install PostgreSQL');
  }
  const owner = clusterOwner();
  const dir = tempDir('sk-postgres-');
  if (owner !== undefined) chownSync(dir.path, owner.uid, owner.gid);
  const options: ExecFileOptions = { timeout: 60_000, cwd: dir.path, ...owner };
  const exec = async (command: string, args: string[]) => {
    try {
      await run(command, args, options);
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
  const serverOptions = `-p ${port} -k ${dir.path} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const start = async () => {
    await exec(pgCtl, [
      '-D',
      data,
      '-o',
      serverOptions,
      '-l',
      join(dir.path, 'log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
    pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
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
