/**
 * A `SessionStore` whose calls run in a child process (test/fixtures/tiered-process.ts): each child is
 * one app process with its own memory cache over the shared durable store.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { SessionStore } from '../../src/stores/types.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/tiered-process.ts', import.meta.url));

export interface RemoteStore extends SessionStore {
  readonly pid: number;
  /** Closes the child's stores and waits for it to exit. */
  close(): Promise<void>;
}

/** Forks one process serving a tiered (memory → `durable`) store, or the durable store alone. */
export async function remoteStore(
  durable: 'sqlite' | 'postgres',
  name: string,
  options: { cacheLeaseMs: number; durableOnly?: boolean },
): Promise<RemoteStore> {
  const args = [durable, name, String(options.cacheLeaseMs), ...(options.durableOnly ? ['durable'] : [])];
  const child: ChildProcess = fork(FIXTURE, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let next = 1;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`tiered-process exited with ${code}`)));
    child.on('message', (message: { id: number; value?: unknown; error?: string }) => {
      if (message.id === 0) return resolve();
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.value);
    });
  });
  await ready;
  const call = (method: string, ...args: unknown[]): Promise<never> =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, method, args });
    });
  const pid = child.pid ?? 0;
  return {
    kind: options.durableOnly ? durable : 'tiered',
    pid,
    get: (key) => call('get', key),
    set: (key, record) => call('set', key, record),
    patch: (key, patch) => call('patch', key, patch),
    destroy: (key) => call('destroy', key),
    listByUser: (userId) => call('listByUser', userId),
    destroyByUser: (userId, exceptKey) => call('destroyByUser', userId, exceptKey),
    ...(options.durableOnly ? {} : { settle: () => call('settle') }),
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      await call('close').catch(() => undefined);
      await exited;
    },
  };
}
