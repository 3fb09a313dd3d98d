/**
 * Runs one benchmark server as its own child process (`node bench/.build/bench/servers/<x>.js`, the
 * compiled script; see build.ts) and talks to it over IPC: the port it listens on, its store-operation
 * counters, stop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OrchestratorMessage, ServerMessage } from '../servers/harness.js';
import { compiledServer } from './build.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A server that is up. */
export interface RunningServer {
  port: number;
  pid: number;
  /** The server's store-operation counters (cumulative since start). */
  counters(): Promise<Map<string, number>>;
  /** Peak resident set size so far (VmHWM), in bytes; NaN where /proc is missing. */
  peakRssBytes(): number;
  /** True once the process has exited. */
  exited(): boolean;
  /** The last lines the server wrote to stderr (for failure reports). */
  stderrTail(): string;
  /** Asks the server to stop; kills it (by pid) if it does not exit within 5 s. */
  stop(): Promise<void>;
}

/** What `startServer` resolves to. */
export type StartResult =
  | { status: 'running'; server: RunningServer }
  | { status: 'unavailable'; reason: string }
  | { status: 'failed'; reason: string };

function isServerMessage(value: unknown): value is ServerMessage {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'type') === 'string';
}

function peakRss(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? Number.NaN : Number(match[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

function request(child: ChildProcess, message: OrchestratorMessage): void {
  if (child.connected) child.send(message);
}

/**
 * Starts `script` with `env` added to the environment (and `nodeArgs`, e.g. `--cpu-prof`); gives up
 * after `timeoutMs`.
 */
export function startServer(
  script: string,
  env: Record<string, string>,
  timeoutMs: number,
  nodeArgs: readonly string[] = [],
): Promise<StartResult> {
  const child = spawn(process.execPath, [...nodeArgs, compiledServer(script)], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  const pending: Array<(counts: Map<string, number>) => void> = [];
  const tail = () => stderr.trim().split('\n').slice(-6).join('\n');

  const server = (port: number, pid: number): RunningServer => ({
    port,
    pid,
    counters: () =>
      new Promise((resolve, reject) => {
        if (exited) return reject(new Error(`server exited: ${tail()}`));
        pending.push(resolve);
        request(child, { type: 'stats' });
        setTimeout(() => reject(new Error('no stats answer within 5 s')), 5000).unref();
      }),
    peakRssBytes: () => peakRss(pid),
    exited: () => exited,
    stderrTail: tail,
    stop: async () => {
      if (exited) return;
      request(child, { type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    },
  });

  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ status: 'failed', reason: `no "ready" within ${timeoutMs} ms ${tail()}` });
    }, timeoutMs);
    child.on('message', (message: unknown) => {
      if (!isServerMessage(message)) return;
      if (message.type === 'stats') pending.shift()?.(new Map(Object.entries(message.counts)));
      if (message.type === 'unavailable') {
        clearTimeout(timer);
        resolve({ status: 'unavailable', reason: message.reason });
      }
      if (message.type === 'ready') {
        clearTimeout(timer);
        const pid = child.pid;
        if (pid === undefined) resolve({ status: 'failed', reason: 'no pid' });
        else resolve({ status: 'running', server: server(message.port, pid) });
      }
    });
    exit.then(() => {
      clearTimeout(timer);
      resolve({ status: 'failed', reason: `exited with code ${child.exitCode}: ${tail()}` });
    });
  });
}
