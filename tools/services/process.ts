/**
 * A server run as a child process on a known port: started and waited for until it listens, signalled
 * (SIGSTOP freezes it with its connections open), killed and started again with the same arguments.
 * Every process and temporary directory made here is torn down when the parent exits (../cleanup.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { atExit } from '../cleanup.js';
import { reachable } from './shared.js';

/** How long a server may take to listen after it was spawned. */
const START_TIMEOUT_MS = 10_000;
/** How long a signalled server may take to exit before it is killed. */
const STOP_TIMEOUT_MS = 5000;

/** A child process that can be started again with the same arguments. */
export class ServerProcess {
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

  /** Spawns the process and waits until it accepts connections on `host:port`. */
  async start(): Promise<void> {
    const child = spawn(this.command, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let failed: Error | undefined;
    child.once('error', (error) => {
      failed = error;
    });
    const collect = (chunk: unknown) => {
      this.#output = (this.#output + String(chunk)).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const name = `${this.command.split('/').pop()} on port ${this.port}`;
    for (let waited = 0; waited < START_TIMEOUT_MS; waited += 50) {
      if (failed !== undefined) throw new Error(`${name} could not start: ${failed.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${name} exited: ${this.#output.trim()}`);
      }
      if (await reachable(this.port, this.host, 500)) return;
      await sleep(50);
    }
    child.kill('SIGKILL');
    throw new Error(`${name} does not listen after ${START_TIMEOUT_MS / 1000} s: ${this.#output.trim()}`);
  }

  /** Sends `signal` to the process (SIGSTOP freezes it with its connections open; SIGCONT resumes). */
  signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined || !this.running) throw new Error(`${this.command} is not running`);
    process.kill(pid, signal);
  }

  /** Kills the process with `signal` and waits for it to exit (SIGKILL after 5 s). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) return;
    const exited = once(child, 'exit');
    // A frozen process handles SIGTERM only once resumed.
    if (signal !== 'SIGKILL') child.kill('SIGCONT');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Kills it at once and forgets it. */
  async close(): Promise<void> {
    await this.kill('SIGKILL');
    this.#unregister();
  }
}

/** A temporary directory removed at exit (or by `remove`). */
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

/** A private server a test or scenario starts, stops, freezes, kills and starts again. */
export interface ManagedServer {
  readonly port: number;
  /** SIGSTOP: the process freezes, its connections stay open, requests pile up unanswered. */
  freeze(): void;
  /** SIGCONT after `freeze()`. */
  thaw(): void;
  /** SIGKILL: the process dies at once (no shutdown save). */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s) and wait for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (and directory), after `kill()` or `stop()`. */
  start(): Promise<void>;
  /** `stop()`, then `start()`. */
  restart(): Promise<void>;
  /** Kills it and removes what it left (its directory). */
  close(): Promise<void>;
}

/** The ManagedServer of a started process; `cleanup` runs once it is closed. */
export function managed(server: ServerProcess, cleanup: () => void = () => undefined): ManagedServer {
  return {
    port: server.port,
    freeze: () => server.signal('SIGSTOP'),
    thaw: () => server.signal('SIGCONT'),
    kill: () => server.kill('SIGKILL'),
    stop: () => server.kill('SIGTERM'),
    start: () => server.start(),
    async restart() {
      await server.kill('SIGTERM');
      await server.start();
    },
    async close() {
      await server.close();
      cleanup();
    },
  };
}
