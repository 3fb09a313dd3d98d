/**
 * What the replicated Redis setups (redis-cluster.ts, redis-sentinel.ts) share: one-shot commands, the
 * replication checks, bounded waits, and the kill of a master whose replica may lag behind it.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { ServerProcess } from './process.js';

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

export const HOST = '127.0.0.1';
/** Bounds every wait for the servers to reach a state. */
export const WAIT_MS = 30_000;

/**
 * Arguments of every data node: a replica that (re)joins syncs at once rather than after the default
 * 5 s of waiting for other replicas.
 */
export const REPLICATION_ARGS: readonly string[] = [
  ...['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', '--repl-diskless-load', 'swapdb'],
];

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
export async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < WAIT_MS) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
}

/** The `field:value` lines of an INFO-style reply. */
export async function info(port: number, ...command: string[]): Promise<Map<string, string>> {
  const text = String(await ask(port, ...command));
  return new Map(
    text
      .split('\r\n')
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}

/** Whether the server on `port` is a replica of `masterPort` with its link up and nothing to catch up. */
export async function inSync(port: number, masterPort: number): Promise<boolean> {
  const replication = await info(port, 'INFO', 'replication');
  return (
    replication.get('role') === 'slave' &&
    replication.get('master_port') === String(masterPort) &&
    replication.get('master_link_status') === 'up' &&
    replication.get('master_sync_in_progress') === '0'
  );
}

/**
 * With `lagMs`: freezes `replica` and has the master drop its link to it (the bytes already in the
 * replica's socket still arrive; nothing after does), waits `lagMs` while the master acknowledges
 * writes no replica has, then SIGKILLs the master and resumes the replica. Resolves the kill's time.
 */
export async function killLagging(
  master: ServerProcess,
  replica: ServerProcess | undefined,
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
