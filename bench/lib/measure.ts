/**
 * The measurement: every contender's server is started once and kept up; then each workload is run
 * in rounds, and in each round every contender gets one short burst, back to back (order reversed
 * every other round). A bare framework and the session libraries on it are thus measured seconds
 * apart, not minutes, which is what makes ratios meaningful on a shared, noisy machine.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CPU_MICROS, REQUESTS } from '../servers/harness.js';
import type { Contender } from './contenders.js';
import { type LoadResult, runLoad, seedSessions, WORKLOADS, type Workload } from './load.js';
import { type RunningServer, startServer } from './server-process.js';
import { dropTables, type PrivateRedis } from './services.js';
import { countDelta } from './stats.js';

/** Settings of one benchmark run. */
export interface RunSettings {
  /** Bursts per contender and workload. */
  rounds: number;
  /** Seconds of one burst. */
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

/** One burst: one workload of one contender in one round. */
export interface Sample {
  /** The round it belongs to (ratios pair samples of the same round). */
  round: number;
  load: LoadResult;
  /**
   * Store operations per request, by kind: round trips counted in the server process (`store:get`,
   * `pg:SELECT`, `redis:EVAL`, `memory:touch`, …) and, for Redis, the commands Redis executed
   * (`redis-server:hset`, including those run inside scripts).
   */
  ops: Record<string, number>;
  /** CPU time the server process used per request it received in the window, in µs. */
  cpuMicrosPerRequest: number;
}

/** Everything measured of one contender. */
export interface ContenderRun {
  status: 'ok' | 'unavailable' | 'failed';
  reason?: string;
  /** Peak resident set size of its server (VmHWM at the end), in bytes. */
  peakRssBytes?: number;
  samples: Partial<Record<Workload, Sample[]>>;
}

// Commands the orchestrator itself sends, or a client sends once on connect.
const REDIS_NOISE = ['info', 'ping', 'client|setinfo', 'client|setname', 'hello', 'select'];

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

/** A contender's server environment (its own Redis prefix, table and SQLite file) and its cleanup. */
export interface Slot {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** Why `contender` cannot run with `services`, or undefined when it can. */
export function missingService(contender: Contender, services: Services): string | undefined {
  if (contender.needs.includes('redis') && !services.redis) return services.why.redis ?? 'no Redis';
  if (contender.needs.includes('postgres') && !services.postgres)
    return services.why.postgres ?? 'no PostgreSQL';
  return undefined;
}

/**
 * Fresh names for one server run of `contender`: nothing is shared with another run. Redis keys need
 * no cleanup: the private redis-server keeps nothing once it stops.
 */
export function slotFor(contender: Contender, run: string, services: Services): Slot {
  const tag = `${contender.id.replace(/[^a-z0-9]/g, '_')}_${run}_${process.pid}`;
  const table = `bench_${tag}`.slice(0, 48);
  const sqlitePath = join(tmpdir(), `sessionkit-bench-${tag}.db`);
  return {
    env: {
      BENCH_STORE: contender.store,
      BENCH_PREFIX: `bench:${tag}:`,
      BENCH_TABLE: table,
      BENCH_SQLITE_PATH: sqlitePath,
      BENCH_REDIS_PORT: String(services.redis?.port ?? 0),
    },
    cleanup: async () => {
      if (contender.needs.includes('postgres')) await dropTables([table]).catch(() => undefined);
      if (contender.store === 'sqlite') {
        await Promise.all(
          ['', '-wal', '-shm'].map((suffix) => rm(`${sqlitePath}${suffix}`, { force: true })),
        );
      }
    },
  };
}

/** A contender whose server is up, seeded and warm. */
interface Live {
  contender: Contender;
  server: RunningServer;
  cookies: string[];
  slot: Slot;
  run: ContenderRun;
}

/** Progress lines. */
export type Log = (line: string) => void;

async function bringUp(
  contender: Contender,
  settings: RunSettings,
  services: Services,
): Promise<Live | ContenderRun> {
  const missing = missingService(contender, services);
  if (missing !== undefined) return { status: 'unavailable', reason: missing, samples: {} };
  const slot = slotFor(contender, 'run', services);
  const started = await startServer(contender.script, slot.env, 30_000);
  if (started.status !== 'running') {
    await slot.cleanup();
    return { status: started.status, reason: started.reason, samples: {} };
  }
  const { server } = started;
  try {
    const cookies = contender.store === 'none' ? [] : await seedSessions(server.port, settings.connections);
    // Mixed warms both the read and the write path (JIT), and the load generator.
    const warmup = contender.store === 'none' ? 'read' : 'mixed';
    await runLoad(server.port, warmup, cookies, settings.connections, settings.warmupSeconds);
    return { contender, server, cookies, slot, run: { status: 'ok', samples: {} } };
  } catch (error) {
    await server.stop();
    await slot.cleanup();
    return { status: 'failed', reason: describeFailure(error, server), samples: {} };
  }
}

function describeFailure(error: unknown, server: RunningServer): string {
  const message = error instanceof Error ? error.message : String(error);
  const tail = server.stderrTail();
  return tail ? `${message} — ${tail}` : message;
}

async function burst(
  live: Live,
  workload: Workload,
  round: number,
  settings: RunSettings,
  services: Services,
): Promise<Sample> {
  const { server, contender, cookies } = live;
  const redis = contender.needs.includes('redis') ? services.redis : undefined;
  const before = await server.counters();
  const redisBefore = redis ? await redis.commandCalls() : new Map<string, number>();
  const load = await runLoad(server.port, workload, cookies, settings.connections, settings.seconds);
  // Let the requests still in flight when autocannon stopped reach the store before counting.
  await new Promise((resolve) => setTimeout(resolve, 150));
  const after = await server.counters();
  const redisAfter = redis ? await redis.commandCalls() : new Map<string, number>();
  if (server.exited()) throw new Error(`server exited during ${workload}`);
  const delta = new Map([
    ...countDelta(before, after),
    ...withPrefix(countDelta(redisBefore, redisAfter, REDIS_NOISE), 'redis-server:'),
  ]);
  const requests = delta.get(REQUESTS) ?? 0;
  const cpu = delta.get(CPU_MICROS) ?? Number.NaN;
  delta.delete(CPU_MICROS);
  return {
    round,
    load,
    ops: perRequest(delta),
    cpuMicrosPerRequest: requests > 0 ? cpu / requests : Number.NaN,
  };
}

/**
 * Measures `contenders`: starts them all (one after the other), then runs each workload in
 * `settings.rounds` rounds of one burst per contender; stops and cleans up everything at the end.
 */
export async function measureAll(
  contenders: readonly Contender[],
  settings: RunSettings,
  services: Services,
  log: Log,
): Promise<Map<string, ContenderRun>> {
  const runs = new Map<string, ContenderRun>();
  const live: Live[] = [];
  try {
    for (const [index, contender] of contenders.entries()) {
      const up = await bringUp(contender, settings, services);
      const at = `[start ${String(index + 1).padStart(2)}/${contenders.length}] ${contender.id}`;
      if ('server' in up) {
        live.push(up);
        runs.set(contender.id, up.run);
        log(`${at}: up on port ${up.server.port}`);
      } else {
        runs.set(contender.id, up);
        log(`${at}: ${up.status === 'unavailable' ? 'not available' : 'FAILED'} — ${up.reason}`);
      }
    }
    for (const workload of WORKLOADS) {
      for (let round = 1; round <= settings.rounds; round++) {
        const order = (round % 2 === 1 ? live : [...live].reverse()).filter((l) => l.run.status === 'ok');
        const figures: string[] = [];
        for (const entry of order) {
          try {
            const sample = await burst(entry, workload, round, settings, services);
            entry.run.samples[workload] = [...(entry.run.samples[workload] ?? []), sample];
            const flag = sample.load.non2xx + sample.load.errors > 0 ? '⚠' : '';
            figures.push(`${entry.contender.id} ${Math.round(sample.load.rps)}${flag}`);
          } catch (error) {
            entry.run.status = 'failed';
            entry.run.reason = describeFailure(error, entry.server);
            log(`${entry.contender.id}: FAILED during ${workload} — ${entry.run.reason}`);
          }
        }
        log(`[${workload} round ${round}/${settings.rounds}] req/s: ${figures.join(', ')}`);
      }
    }
    for (const entry of live) {
      const rss = entry.server.peakRssBytes();
      if (Number.isFinite(rss)) entry.run.peakRssBytes = rss;
    }
  } finally {
    for (const entry of live) {
      await entry.server.stop();
      await entry.slot.cleanup();
    }
  }
  return runs;
}
