/**
 * Two network namespaces joined by a veth pair, for the partition scenarios: the app runs in one, the
 * store in the other, each end with an address of one private /30 that exists only inside them (the
 * host's own network is never touched). Cutting the link is `ip link set <store end> down`: the app's
 * packets are dropped silently, as in a real partition. Namespaces are removed on every exit.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { atExit } from '../../tools/cleanup.js';
import { findBinary } from '../../tools/services.js';

const run = promisify(execFile);

/** What the process inside the app namespace is told (environment variable `SK_NETNS`). */
export interface NetnsPair {
  app: string;
  store: string;
  /** The store end of the veth pair, in the store namespace. */
  storeLink: string;
  appAddress: string;
  storeAddress: string;
}

/** Name of the environment variable that carries the pair to the child in the app namespace. */
export const NETNS_ENV = 'SK_NETNS';

function ipBinary(): string | undefined {
  return findBinary('ip', ['/usr/sbin', '/sbin', '/usr/bin']);
}

async function ip(...args: string[]): Promise<void> {
  const binary = ipBinary();
  if (binary === undefined) throw new Error('ip (iproute2) is not installed');
  await run(binary, args, { timeout: 10_000 });
}

/** Why namespaces cannot be made here, or undefined when they can (tried once: add, then delete). */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (ipBinary() === undefined) return 'ip (iproute2) is not installed';
  const probe = `sk-probe-${process.pid}`;
  try {
    await ip('netns', 'add', probe);
    await ip('netns', 'del', probe);
    return undefined;
  } catch (error) {
    return `ip netns add failed: ${error instanceof Error ? error.message.trim() : String(error)}`;
  }
}

/** Deletes a namespace after killing what still runs in it (only processes this run started there). */
function removeNamespace(name: string): void {
  const binary = ipBinary() ?? 'ip';
  try {
    const pids = execFileSync(binary, ['netns', 'pids', name], { encoding: 'utf8', timeout: 5000 });
    for (const pid of pids.split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
  } catch {
    // Already gone, or nothing ran there.
  }
  try {
    execFileSync(binary, ['netns', 'del', name], { timeout: 5000, stdio: 'ignore' });
  } catch {
    // Already gone.
  }
}

/** Creates the two namespaces and the link (up); `remove()` deletes both (also done at exit). */
export async function createNetnsPair(): Promise<NetnsPair & { remove(): void }> {
  const id = `${process.pid}-${randomInt(1e6)}`;
  const subnet = randomInt(64) * 4;
  const pair: NetnsPair = {
    app: `sk-app-${id}`,
    store: `sk-store-${id}`,
    storeLink: 'sk-veth-store',
    appAddress: `10.213.${randomInt(256)}.${subnet + 1}`,
    storeAddress: '',
  };
  pair.storeAddress = pair.appAddress.replace(/\.\d+$/, `.${subnet + 2}`);
  const remove = () => {
    removeNamespace(pair.app);
    removeNamespace(pair.store);
  };
  const unregister = atExit(remove);
  try {
    await ip('netns', 'add', pair.app);
    await ip('netns', 'add', pair.store);
    await ip(
      'link',
      'add',
      'sk-veth-app',
      'netns',
      pair.app,
      'type',
      'veth',
      'peer',
      'name',
      pair.storeLink,
      'netns',
      pair.store,
    );
    await ip('-n', pair.app, 'addr', 'add', `${pair.appAddress}/30`, 'dev', 'sk-veth-app');
    await ip('-n', pair.store, 'addr', 'add', `${pair.storeAddress}/30`, 'dev', pair.storeLink);
    for (const [ns, link] of [
      [pair.app, 'sk-veth-app'],
      [pair.store, pair.storeLink],
      [pair.app, 'lo'],
      [pair.store, 'lo'],
    ] as const) {
      await ip('-n', ns, 'link', 'set', link, 'up');
    }
  } catch (error) {
    unregister();
    remove();
    throw error;
  }
  return {
    ...pair,
    remove() {
      unregister();
      remove();
    },
  };
}

/** Cuts (`down`) or restores (`up`) the link, from its store end. */
export function setLink(pair: NetnsPair, state: 'up' | 'down'): Promise<void> {
  return ip('-n', pair.store, 'link', 'set', pair.storeLink, state);
}

/** The pair this process was started in (by `runInAppNamespace`), if any. */
export function currentPair(): NetnsPair | undefined {
  const raw = process.env[NETNS_ENV];
  if (raw === undefined) return undefined;
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const field = (name: string) => (name in parsed ? String(Reflect.get(parsed, name)) : '');
  return {
    app: field('app'),
    store: field('store'),
    storeLink: field('storeLink'),
    appAddress: field('appAddress'),
    storeAddress: field('storeAddress'),
  };
}

/** The command prefix that runs a program in the store namespace. */
export function inStoreNamespace(pair: NetnsPair): string[] {
  return [ipBinary() ?? 'ip', 'netns', 'exec', pair.store];
}
