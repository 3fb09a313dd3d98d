/**
 * One contender for one round: start its server, pre-create the sessions, warm up, run every
 * workload while counting store operations on the server side, read the peak RSS, stop, clean up.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REQUESTS } from '../servers/harness.js';
import type { Contender } from './contenders.js';
import { type LoadResult, runLoad, seedSessions, WORKLOADS, type Workload } from './load.js';
import { startServer } from './server-process.js';
import { dropTables, type PrivateRedis } from './services.js';
import { countDelta } from './stats.js';

/** Settings of one benchmark run. */
export interface RunSettings {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
}

/** The services available to this run (a missing one makes its contenders "not available"). */
export interface Services {
  redis: PrivateRedis | undefined;
  postgres: boolean;
  why: { redis?: string; postgres?: string };
}

/** One workload of one round. */
export interface Sample {
  load: LoadResult;
  /**
   * Store operations per request, by kind: round trips counted in the server process (`store:get`,
   * `pg:SELECT`, `redis:EVAL`, `memory:touch`, …) and, for Redis, the commands Redis executed
   * (`redis-server:hset`, including those run inside scripts).
   */
  ops: Record<string, number>;
}

/** One contender in one round. */
export type RoundResult =
  | { status: 'ok'; peakRssBytes: number; samples: Partial<Record<Workload, Sample>> }
  | { status: 'unavailable' | 'failed'; reason: string };

// Commands the orchestrator itself sends, or a client sends once on connect.
const REDIS_NOISE = ['info', 'ping', 'flushall', 'client|setinfo', 'client|setname', 'hello', 'select'];

/** Counts per HTTP request the server received in the window (the server counts them itself). */
function perRequest(delta: Map<string, number>): Record<string, number> {
  const requests = delta.get(REQUESTS) ?? 0;
  const ops: Record<string, number> = {};
  for (const [name, value] of delta) {
    if (name !== REQUESTS) ops[name] = requests > 0 ? value / requests : Number.NaN;
  }
  return ops;
}

function withPrefix(map: Map<string, number>, prefix: string): Map<string, number> {
  return new Map([...map].map(([name, value]) => [`${prefix}${name}`, value]));
}

/** Workloads a contender runs: a bare framework has no sessions, so one run is its limit for all four. */
export function workloadsOf(contender: Contender): readonly Workload[] {
  return contender.store === 'none' ? ['read'] : WORKLOADS;
}

/** Runs `contender` once. `onWorkload` reports progress after each workload. */
export async function measureOnce(
  contender: Contender,
  round: number,
  settings: RunSettings,
  services: Services,
  onWorkload: (workload: Workload, sample: Sample) => void,
): Promise<RoundResult> {
  if (contender.needs.includes('redis') && !services.redis) {
    return { status: 'unavailable', reason: services.why.redis ?? 'no Redis' };
  }
  if (contender.needs.includes('postgres') && !services.postgres) {
    return { status: 'unavailable', reason: services.why.postgres ?? 'no PostgreSQL' };
  }
  const tag = `${contender.id.replace(/[^a-z0-9]/g, '_')}_r${round}_${process.pid}`;
  const table = `bench_${tag}`.slice(0, 48);
  const sqlitePath = join(tmpdir(), `sessionkit-bench-${tag}.db`);
  const redis = services.redis;
  const started = await startServer(
    contender.script,
    {
      BENCH_STORE: contender.store,
      BENCH_PREFIX: `bench:${tag}:`,
      BENCH_TABLE: table,
      BENCH_SQLITE_PATH: sqlitePath,
      BENCH_REDIS_PORT: String(redis?.port ?? 0),
    },
    30_000,
  );
  if (started.status !== 'running') return started;
  const { server } = started;
  try {
    const connections = settings.connections;
    const cookies = contender.store === 'none' ? [] : await seedSessions(server.port, connections);
    if (settings.warmupSeconds > 0) {
      await runLoad(server.port, 'read', cookies, connections, settings.warmupSeconds);
    }
    const samples: Partial<Record<Workload, Sample>> = {};
    for (const workload of workloadsOf(contender)) {
      const usesRedis = redis !== undefined && contender.needs.includes('redis');
      const before = await server.counters();
      const redisBefore = usesRedis ? await redis.commandCalls() : new Map<string, number>();
      const load = await runLoad(server.port, workload, cookies, connections, settings.seconds);
      // Let the requests still in flight when autocannon stopped reach the store before counting.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = await server.counters();
      const redisAfter = usesRedis ? await redis.commandCalls() : new Map<string, number>();
      const delta = new Map([
        ...countDelta(before, after),
        ...withPrefix(countDelta(redisBefore, redisAfter, REDIS_NOISE), 'redis-server:'),
      ]);
      const sample = { load, ops: perRequest(delta) };
      samples[workload] = sample;
      onWorkload(workload, sample);
      if (server.exited()) throw new Error(`server exited during ${workload}: ${server.stderrTail()}`);
    }
    return { status: 'ok', peakRssBytes: server.peakRssBytes(), samples };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const tail = server.stderrTail();
    return { status: 'failed', reason: tail ? `${message} — ${tail}` : message };
  } finally {
    await server.stop();
    await cleanup(contender, services, table, sqlitePath);
  }
}

async function cleanup(contender: Contender, services: Services, table: string, sqlitePath: string) {
  if (contender.needs.includes('redis')) await services.redis?.flush().catch(() => undefined);
  if (contender.needs.includes('postgres')) await dropTables([table]).catch(() => undefined);
  if (contender.store === 'sqlite') {
    await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(`${sqlitePath}${suffix}`, { force: true })));
  }
}
