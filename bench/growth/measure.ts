/**
 * How sessionkit's cost grows, measured in one process on the built dist/ (imported by package name):
 * read and write latency by session size, read latency by number of stored sessions, and bytes per
 * stored session against express-session's stores for the same data. Run by bench/run.ts
 * (`npm run bench -- --growth`) as `node --expose-gc bench/.build/bench/growth/measure.js`; prints
 * one JSON object (`GrowthResult`).
 *
 * Environment: BENCH_REDIS_PORT (a private redis-server; this script fills it), GROWTH_QUICK=1 (small
 * counts, for CI), GROWTH_BUDGET_S (wall-clock bound on filling stores; a count not reached in time
 * is reported at the count reached).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SessionManager, SessionStore } from 'sessionkit';
import { createSessionManager } from 'sessionkit';
import { median, percentile } from '../lib/stats.js';
import { PROFILE } from '../servers/harness.js';
import { bytesPerSession } from './footprint.js';

const quick = process.env.GROWTH_QUICK === '1';
const redisPort = Number(process.env.BENCH_REDIS_PORT ?? 0);
const budgetMs = Number(process.env.GROWTH_BUDGET_S ?? (quick ? 20 : 150)) * 1000;
const started = performance.now();
const elapsed = () => performance.now() - started;

/** Latency figures in microseconds. */
export interface Latency {
  p50: number;
  p99: number;
}

/** What this script prints. */
export interface GrowthResult {
  quick: boolean;
  bySize: Array<{ store: string; bytes: number; read: Latency; write: Latency }>;
  byCount: Array<{ store: string; wanted: number; sessions: number; read: Latency }>;
  footprint: Array<{ store: string; library: string; bytes: number; method: string }>;
  unavailable: Record<string, string>;
}

type Manager = SessionManager<Record<string, unknown>>;
interface OpenStore {
  store: SessionStore;
  close(): Promise<unknown>;
  /** Switches durability off while the store is filled (SQLite: synchronous=OFF; reads are measured with FULL). */
  filling?: (on: boolean) => void;
}

/** Creates a session holding `data` through the manager (as a request would); its `Cookie` header. */
export async function createSession(manager: Manager, data: Record<string, unknown>): Promise<string> {
  const session = await manager.load(undefined);
  for (const [key, value] of Object.entries(data)) session.set(key, value);
  const [cookie] = await manager.commit(session);
  return (cookie ?? '').split(';', 1)[0] ?? '';
}

async function timed(iterations: number, op: (i: number) => Promise<unknown>): Promise<Latency> {
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await op(i);
    samples.push((performance.now() - t0) * 1000);
  }
  return { p50: median(samples), p99: percentile(samples, 99) };
}

/** A read request's session work: load, read a key, commit (nothing changed). */
async function read(manager: Manager, cookie: string): Promise<void> {
  const session = await manager.load(cookie);
  if (typeof session.get('n') !== 'number') throw new Error('lost a session');
  await manager.commit(session);
}

/** A write request's: load, change one small key, commit. */
async function write(manager: Manager, cookie: string, n: number): Promise<void> {
  const session = await manager.load(cookie);
  session.set('n', n);
  await manager.commit(session);
}

async function openStore(kind: string, dir: string, capacity: number): Promise<OpenStore> {
  if (kind === 'memory') {
    const { createMemoryStore } = await import('sessionkit/stores/memory');
    const store = createMemoryStore({ maxEntries: capacity });
    return { store, close: () => store.close() };
  }
  if (kind === 'sqlite') {
    const [{ createSqliteStore }, { default: Database }] = await Promise.all([
      import('sessionkit/stores/sqlite'),
      import('better-sqlite3'),
    ]);
    // Opened here (as the store opens its own file: WAL, synchronous=FULL) so that filling can skip the fsyncs.
    const db = new Database(join(dir, `growth-${Math.random().toString(36).slice(2)}.db`));
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL');
    const store = createSqliteStore(db);
    const filling = (on: boolean) => db.exec(`PRAGMA synchronous = ${on ? 'OFF' : 'FULL'}`);
    return { store, filling, close: async () => db.close() };
  }
  if (redisPort === 0) throw new Error('no private redis-server (BENCH_REDIS_PORT)');
  const [{ Redis }, { createRedisStore }] = await Promise.all([
    import('ioredis'),
    import('sessionkit/stores/redis'),
  ]);
  const client = new Redis({ host: '127.0.0.1', port: redisPort, lazyConnect: true });
  await client.connect();
  await client.flushdb(); // the private server of this run, never the shared one
  return { store: createRedisStore(client, { keyPrefix: 'growth:' }), close: () => client.quit() };
}

const STORES = ['memory', 'sqlite', 'redis'];
const SIZES = [100, 1_000, 10_000, 100_000];

/** Session data of about `bytes` bytes of JSON: the counter and a string. */
function dataOf(bytes: number): Record<string, unknown> {
  return { n: 0, blob: 'x'.repeat(Math.max(0, bytes - 20)) };
}

async function bySize(dir: string, out: GrowthResult): Promise<void> {
  const iterations = quick ? 50 : 200;
  for (const kind of STORES) {
    const { store, close } = await openStore(kind, dir, 1000);
    try {
      const manager: Manager = createSessionManager({ store, insecureDevCookies: true });
      for (const bytes of SIZES) {
        const cookie = await createSession(manager, dataOf(bytes));
        await timed(20, () => read(manager, cookie));
        const readLatency = await timed(iterations, () => read(manager, cookie));
        const writeLatency = await timed(iterations, (i) => write(manager, cookie, i));
        out.bySize.push({ store: kind, bytes, read: readLatency, write: writeLatency });
      }
    } finally {
      await close();
    }
  }
}

/**
 * Brings the store to `target` sessions: 200 real ones through the manager (their cookies join
 * `sample`, so the sessions read are spread over the whole population), the rest copies of a real
 * record under random keys, written straight to the store with 100 in flight.
 */
async function fill(
  manager: Manager,
  store: SessionStore,
  have: number,
  target: number,
  sample: string[],
  deadline: number,
): Promise<number> {
  const data = { n: 0, profile: PROFILE };
  let next = have;
  for (let i = 0; i < 200 && next < target; i++, next++) sample.push(await createSession(manager, data));
  const probe = await manager.load(sample[sample.length - 1]);
  const record = await store.get(probe.id);
  if (record === null) throw new Error('a session just created is missing');
  const worker = async () => {
    while (next < target && performance.now() < deadline) {
      next++;
      await store.set(`growth-${next}-${Math.random().toString(36).slice(2)}`, record);
    }
  };
  await Promise.all(Array.from({ length: 100 }, worker));
  return Math.min(next, target);
}

async function byCount(dir: string, out: GrowthResult): Promise<void> {
  const counts = quick ? [10, 1_000, 10_000] : [10, 10_000, 1_000_000];
  const iterations = quick ? 200 : 2000;
  for (const kind of STORES) {
    const deadline = performance.now() + (budgetMs - elapsed()) / (STORES.length - STORES.indexOf(kind));
    const { store, close, filling } = await openStore(kind, dir, Math.max(...counts) + 1000);
    try {
      const manager: Manager = createSessionManager({ store, insecureDevCookies: true });
      const sample: string[] = [];
      let sessions = 0;
      for (const wanted of counts) {
        filling?.(true);
        sessions = await fill(manager, store, sessions, wanted, sample, deadline);
        filling?.(false);
        const latency = await timed(iterations, (i) =>
          read(manager, sample[(i * 7919) % sample.length] ?? ''),
        );
        out.byCount.push({ store: kind, wanted, sessions, read: latency });
        if (sessions < wanted) break;
      }
    } finally {
      await close();
    }
  }
}

async function main(): Promise<void> {
  const out: GrowthResult = { quick, bySize: [], byCount: [], footprint: [], unavailable: {} };
  const dir = await mkdtemp(join(tmpdir(), 'sessionkit-growth-'));
  try {
    for (const [name, step] of [
      ['size', bySize],
      ['count', byCount],
    ] as const) {
      try {
        await step(dir, out);
      } catch (error) {
        out.unavailable[name] = error instanceof Error ? error.message : String(error);
      }
    }
    out.footprint = await bytesPerSession(dir, redisPort, quick ? 500 : 2000, out.unavailable);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
