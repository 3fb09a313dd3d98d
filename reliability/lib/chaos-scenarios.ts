/**
 * The chaos scenarios: an Express app on loopback under a closed-loop load while a real server process
 * is frozen, killed, restarted or slowed down. Each scenario states what must hold (which statuses are
 * allowed, how many sessions may be lost) and reports what happened.
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Client } from 'memjs';
import pg from 'pg';
import type { SessionStore } from '../../src/index.js';
import { createSessionManager } from '../../src/index.js';
import { createMemcachedStore } from '../../src/stores/memcached.js';
import { createPostgresStore } from '../../src/stores/postgres.js';
import { createRedisStore, type IoRedisLike } from '../../src/stores/redis.js';
import { createTieredStore } from '../../src/stores/tiered.js';
import { withTimeout } from '../../src/stores/timeout.js';
import {
  type PostgresServer,
  type ReplicatedRedis,
  startMemcached,
  startPostgres,
  startRedisServer,
} from '../../tools/services.js';
import { type LoadData, startLoadApp } from './app.js';
import { createHttpClient } from './http.js';
import { EventCounter, startLoad } from './load.js';
import { type ReplicatedKind, startReplicated } from './replicated.js';
import { countOther, type PhaseSummary, Tally, TIMELINE_MS } from './tally.js';
import { Visitor } from './visitor.js';

/** How long and how hard a scenario runs. */
export interface ChaosTiming {
  visitors: number;
  beforeMs: number;
  faultMs: number;
  afterMs: number;
  /** Failovers per failover scenario, each followed by `failoverGapMs` of load. */
  failovers?: number;
  failoverGapMs?: number;
  /** How long the replica to be promoted lags (is frozen) before each master is killed. */
  replicaLagMs?: number;
}

/** CI-sized runs: a few seconds per phase. */
export const QUICK_TIMING: ChaosTiming = {
  visitors: 16,
  beforeMs: 1500,
  faultMs: 3000,
  afterMs: 3000,
  failovers: 1,
  failoverGapMs: 1500,
  replicaLagMs: 300,
};
/** `npm run chaos`. */
export const FULL_TIMING: ChaosTiming = {
  visitors: 64,
  beforeMs: 10_000,
  faultMs: 15_000,
  afterMs: 15_000,
  failovers: 10,
  failoverGapMs: 3000,
  replicaLagMs: 300,
};

/** Milliseconds a store call may take in the scenarios that bound it (`withTimeout`). */
export const STORE_TIMEOUT_MS = 1000;
/** The slow-store scenario's timeout and delays. */
export const SLOW = { timeoutMs: 300, underMs: 100, overMs: 3000 } as const;

/** What the scenarios share: one throwaway PostgreSQL cluster, and replicated Redis made on demand. */
export interface ChaosContext {
  postgres: PostgresServer;
  /** The Redis Cluster or Sentinel group of the failover scenarios, started the first time it is asked for. */
  replicated(kind: ReplicatedKind): Promise<ReplicatedRedis>;
  close(): Promise<void>;
}

/** Starts the throwaway PostgreSQL cluster the scenarios use. */
export async function createChaosContext(): Promise<ChaosContext> {
  const postgres = await startPostgres();
  const made = new Map<ReplicatedKind, Promise<ReplicatedRedis>>();
  return {
    postgres,
    replicated(kind) {
      let server = made.get(kind);
      if (server === undefined) {
        server = startReplicated(kind);
        made.set(kind, server);
      }
      return server;
    },
    async close() {
      for (const server of made.values()) await (await server.catch(() => undefined))?.close();
      await postgres.close();
    },
  };
}

export interface Step {
  phase: string;
  ms: number;
  action?: () => Promise<void> | void;
  /** The fault ends with this step's action: recovery is measured from when it completes. */
  restores?: boolean;
}

export interface Rig {
  store: SessionStore;
  steps(timing: ChaosTiming): Step[];
  /** Statuses every reply must have. */
  statuses: readonly string[];
  /**
   * Sessions written before the fault that may be lost: none, or all of them (persistence off); or
   * `measured`: acknowledged writes and sessions may be lost, and the run reports how many.
   */
  loss: 'none' | 'all' | 'measured';
  /** What each failover of the run took (the failover scenarios). */
  failovers?(tally: Tally): FailoverReport[];
  /**
   * A write answered 503 may land after a later read did not show it (a Cluster client retries it
   * after the failover): counted (`late-write`), not judged. A newer confirmed write it overwrote
   * would still show as a lost one.
   */
  allowLateWrites?: boolean;
  /** Extra checks after the run: failures found. */
  check?(result: ScenarioResult): Promise<string[]>;
  close(): Promise<void>;
}

/** One scenario. */
export interface ScenarioDefinition {
  name: string;
  title: string;
  /** Run in CI (`--quick`) too. */
  quick: boolean;
  /** A name `--only` selects this scenario by, with others (e.g. `failover`). */
  group?: string;
  rig(context: ChaosContext): Promise<Rig>;
}

/** What a scenario run found. */
export interface ScenarioResult {
  name: string;
  title: string;
  visitors: number;
  /** Visitors holding a session when the fault began (sessions written before the outage). */
  sessionsBefore: number;
  requests: number;
  byStatus: Record<string, number>;
  phases: Record<string, PhaseSummary>;
  /** Sessions the server forgot (cookie cleared on a later request). */
  sessionsLost: number;
  /** The final read of every visitor's session. */
  final: Record<string, number>;
  violations: Record<string, number>;
  examples: readonly string[];
  recoveryMs: number | null;
  firstSuccessMs: number | null;
  events: Record<string, number>;
  appErrors: Record<string, number>;
  /** Writes the server acknowledged that a later read no longer showed (counter or key went back). */
  acknowledgedLost: number;
  /** Writes answered with a failure that became visible after a later read had not shown them. */
  lateWrites: number;
  failovers?: FailoverReport[];
  /** Replies per 250 ms by when they were sent, from the start of the load: [2xx, 503, other]. */
  timeline?: Array<[number, number, number]>;
  failures: string[];
  passed: boolean;
}

/** One failover as the load saw it, in milliseconds from the kill. */
export interface FailoverReport {
  /** When the master was killed: performance.now() in the rig, ms since the load started in a result. */
  atMs: number;
  promotedMs: number;
  rejoinedMs: number;
  /** Until the last failed request sent after the kill (and before the next one) was answered. */
  writesBackMs: number;
  /** Failed requests sent in that window. */
  failed: number;
}

const quiet = { log() {} };

export function pool(postgres: PostgresServer): pg.Pool {
  const created = new pg.Pool({ ...postgres.connection, max: 20, connectionTimeoutMillis: 2000 });
  // Idle clients report the server's death here; without a listener the process would crash.
  created.on('error', () => undefined);
  return created;
}

/**
 * Configured as docs/stores.md recommends with `storeTimeoutMs`: a command is never queued while the
 * connection is down nor re-sent after a reconnect, so a write the app already answered 503 cannot
 * land later (a late write).
 */
async function redisClient(port: number): Promise<Redis> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
  });
  client.on('error', () => undefined);
  await once(client, 'ready');
  return client;
}

let tables = 0;
function tableName(scenario: string): string {
  tables++;
  return `chaos_${scenario.replace(/[^a-z0-9]/g, '_')}_${process.pid}_${tables}`;
}

/** Phases of a scenario whose fault is one action and whose end is another. */
export function faultSteps(
  timing: ChaosTiming,
  fault: () => Promise<void> | void,
  restore: () => Promise<void> | void,
): Step[] {
  return [
    { phase: 'before', ms: timing.beforeMs },
    { phase: 'fault', ms: timing.faultMs, action: fault },
    { phase: 'after', ms: timing.afterMs, action: restore, restores: true },
  ];
}

/**
 * An ioredis client behind a slow link: every command is sent `delayMs` later, in order (a TCP
 * connection never reorders, so a command delayed before a change of delay still goes first).
 */
export function slowLink(client: IoRedisLike): IoRedisLike & { delayMs: number } {
  let lastSendAt = 0;
  let tail: Promise<unknown> = Promise.resolve();
  const link = {
    delayMs: 0,
    call(command: string, ...args: string[]): Promise<unknown> {
      const sendAt = Math.max(lastSendAt, performance.now() + link.delayMs);
      lastSendAt = sendAt;
      const sent = tail.then(async () => {
        const wait = sendAt - performance.now();
        if (wait > 0) await sleep(wait);
      });
      tail = sent;
      return sent.then(() => client.call(command, ...args));
    },
  };
  return link;
}

async function redisRig(options: { persistent: boolean; freeze: boolean }): Promise<Rig> {
  const server = await startRedisServer([], { persistent: options.persistent });
  const client = await redisClient(server.port);
  const store = createRedisStore(client, { keyPrefix: 'chaos:', checkEvictionPolicy: false });
  return {
    store: withTimeout(store, { timeoutMs: STORE_TIMEOUT_MS }),
    steps: (timing) =>
      options.freeze
        ? faultSteps(timing, server.freeze, server.thaw)
        : faultSteps(timing, server.kill, server.start),
    statuses: ['200', '503'],
    loss: options.persistent ? 'none' : 'all',
    async close() {
      client.disconnect();
      await server.close();
    },
  };
}

export async function postgresTable(postgres: PostgresServer, scenario: string) {
  const db = pool(postgres);
  const table = tableName(scenario);
  return {
    db,
    table,
    store: createPostgresStore(db, { table }),
    async drop() {
      await db.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => undefined);
      await db.end();
    },
  };
}

async function tieredRedisRig(context: ChaosContext, freeze: boolean): Promise<Rig> {
  const server = await startRedisServer();
  const client = await redisClient(server.port);
  const durable = await postgresTable(context.postgres, freeze ? 'tiered_stop' : 'tiered_kill');
  const cache = createRedisStore(client, { keyPrefix: 'chaos:', checkEvictionPolicy: false });
  return {
    // The outer timeout is a safety net only: the tiered store bounds cache calls itself (250 ms).
    store: withTimeout(createTieredStore({ cache, durable: durable.store }), { timeoutMs: 5000 }),
    steps: (timing) =>
      freeze ? faultSteps(timing, server.freeze, server.thaw) : faultSteps(timing, server.kill, server.start),
    statuses: ['200'],
    loss: 'none',
    async close() {
      client.disconnect();
      await server.close();
      await durable.drop();
    },
  };
}

async function tieredMemcachedRig(context: ChaosContext): Promise<Rig> {
  const server = await startMemcached({ memoryMb: 64 });
  const client = Client.create(server.address, { logger: quiet, timeout: 0.5, retries: 1 });
  const durable = await postgresTable(context.postgres, 'tiered_memcached');
  const cache = createMemcachedStore(client, { keyPrefix: 'chaos:' });
  return {
    store: withTimeout(createTieredStore({ cache, durable: durable.store }), { timeoutMs: 5000 }),
    steps: (timing) => faultSteps(timing, server.stop, server.start),
    statuses: ['200'],
    loss: 'none',
    async close() {
      client.close();
      await server.close();
      await durable.drop();
    },
  };
}

async function postgresRig(context: ChaosContext): Promise<Rig> {
  const table = await postgresTable(context.postgres, 'postgres');
  return {
    store: withTimeout(table.store, { timeoutMs: STORE_TIMEOUT_MS }),
    steps: (timing) =>
      faultSteps(
        timing,
        () => context.postgres.stop('immediate'),
        () => context.postgres.start(),
      ),
    statuses: ['200', '503'],
    loss: 'none',
    async check() {
      // Every row must still be a well-formed record: data an object, meta with its timestamps (the
      // stores' compact meta layout keeps them in "t", the long one by name; json and jsonb columns alike).
      const { rows } = await table.db.query(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE json_typeof(data::json) IS DISTINCT FROM 'object'
           OR (json_typeof(meta::json -> 't' -> 3) = 'number' OR (json_typeof(meta::json -> 'createdAt') = 'number'
             AND json_typeof(meta::json -> 'expiresAt') = 'number')) IS NOT TRUE
           OR version < 1)::int AS corrupted FROM "${table.table}"`,
      );
      const row: unknown = rows[0];
      const corrupted =
        typeof row === 'object' && row !== null && 'corrupted' in row ? Number(row.corrupted) : -1;
      return corrupted === 0 ? [] : [`${corrupted} corrupted rows after the restart`];
    },
    close: () => table.drop(),
  };
}

async function slowRig(): Promise<Rig> {
  const server = await startRedisServer();
  const client = await redisClient(server.port);
  const link = slowLink(client);
  const store = createRedisStore(link, { keyPrefix: 'chaos:', checkEvictionPolicy: false });
  return {
    store: withTimeout(store, { timeoutMs: SLOW.timeoutMs }),
    steps: (timing) => [
      { phase: 'before', ms: timing.beforeMs },
      {
        phase: 'slow-under-timeout',
        ms: timing.faultMs,
        action: () => {
          link.delayMs = SLOW.underMs;
        },
      },
      {
        phase: 'fault',
        ms: timing.faultMs,
        action: () => {
          link.delayMs = SLOW.overMs;
        },
      },
      {
        phase: 'after',
        ms: timing.afterMs,
        action: () => {
          link.delayMs = 0;
        },
        restores: true,
      },
    ],
    statuses: ['200', '503'],
    loss: 'none',
    async check(result) {
      const fault = result.phases.fault;
      const other = fault === undefined ? 1 : countOther(fault.byStatus, ['503']);
      return other === 0
        ? []
        : [`${other} requests sent while the store was slower than the timeout did not get 503`];
    },
    async close() {
      client.disconnect();
      await server.close();
    },
  };
}

/** Every scenario, in the order `npm run chaos` runs them. */
export const scenarios: readonly ScenarioDefinition[] = [
  {
    name: 'redis-sigstop',
    title: 'Redis store, redis-server frozen (SIGSTOP) then resumed (SIGCONT); AOF on',
    quick: true,
    rig: () => redisRig({ persistent: true, freeze: true }),
  },
  {
    name: 'redis-sigkill',
    title: 'Redis store, redis-server killed (SIGKILL) then restarted; AOF on (appendfsync everysec)',
    quick: true,
    rig: () => redisRig({ persistent: true, freeze: false }),
  },
  {
    name: 'redis-sigkill-no-persistence',
    title: 'Redis store, redis-server killed (SIGKILL) then restarted; persistence off (no AOF, no RDB)',
    quick: false,
    rig: () => redisRig({ persistent: false, freeze: false }),
  },
  {
    name: 'tiered-redis-sigstop',
    title: 'Tiered Redis→PostgreSQL, the Redis cache frozen (SIGSTOP) then resumed',
    quick: true,
    rig: (context) => tieredRedisRig(context, true),
  },
  {
    name: 'tiered-redis-sigkill',
    title: 'Tiered Redis→PostgreSQL, the Redis cache killed (SIGKILL) then restarted empty',
    quick: true,
    rig: (context) => tieredRedisRig(context, false),
  },
  {
    name: 'tiered-memcached-restart',
    title: 'Tiered Memcached→PostgreSQL, memcached stopped then restarted empty',
    quick: true,
    rig: (context) => tieredMemcachedRig(context),
  },
  {
    name: 'postgres-restart',
    title: 'PostgreSQL store, the server stopped (immediate: a crash) then restarted (WAL recovery)',
    quick: true,
    rig: (context) => postgresRig(context),
  },
  {
    name: 'slow-store',
    title: `Redis store behind a slow link (delay in the client), withTimeout ${SLOW.timeoutMs} ms`,
    quick: true,
    rig: () => slowRig(),
  },
];

/** Runs one scenario: load before, during and after the fault, then a final read of every session. */
export async function runScenario(
  definition: ScenarioDefinition,
  context: ChaosContext,
  timing: ChaosTiming,
): Promise<ScenarioResult> {
  const rig = await definition.rig(context);
  const tally = new Tally();
  const events = new EventCounter(tally);
  const manager = createSessionManager<LoadData>({
    store: rig.store,
    trustProxy: true,
    rotateAfterSeconds: 0,
    idleTimeoutSeconds: 3600,
  });
  const app = await startLoadApp(manager);
  const client = createHttpClient(app.port, { sockets: timing.visitors * 2, timeoutMs: 30_000 });
  const visitors = Array.from(
    { length: timing.visitors },
    (_, i) =>
      new Visitor(`${definition.name}-${i}`, client, tally, {
        cookieName: manager.cookieName,
        rotation: false,
      }),
  );
  let sessionsBefore = 0;
  try {
    tally.phase = 'setup';
    await Promise.all(visitors.map((visitor) => visitor.start()));
    const loadStartedAt = performance.now();
    const load = startLoad(visitors);
    for (const step of rig.steps(timing)) {
      if (step.phase === 'fault' && sessionsBefore === 0)
        sessionsBefore = visitors.filter((visitor) => visitor.active).length;
      // Requests sent while a restore is under way still meet the fault: they count in its phase.
      if (!step.restores) tally.phase = step.phase;
      await step.action?.();
      if (step.restores) {
        tally.restored(performance.now());
        tally.phase = step.phase;
      }
      await sleep(step.ms);
    }
    await load.stop();
    tally.phase = 'final';
    const final: Record<string, number> = {};
    for (const verdict of await Promise.all(visitors.map((visitor) => visitor.verify()))) {
      final[verdict] = (final[verdict] ?? 0) + 1;
    }
    const total = tally.total();
    const result: ScenarioResult = {
      name: definition.name,
      title: definition.title,
      visitors: timing.visitors,
      sessionsBefore,
      requests: total.requests,
      byStatus: total.byStatus,
      phases: tally.phases(),
      sessionsLost: visitors.reduce((sum, visitor) => sum + visitor.lost, 0),
      final,
      violations: tally.violations,
      examples: tally.examples,
      recoveryMs: tally.recoveryMs,
      firstSuccessMs: tally.firstSuccessMs,
      events: events.toJSON(),
      appErrors: Object.fromEntries(app.errors),
      acknowledgedLost: (tally.violations.counter ?? 0) + (tally.violations.value ?? 0),
      lateWrites: tally.violations['late-write'] ?? 0,
      failures: [],
      passed: false,
    };
    const failovers = rig.failovers?.(tally);
    if (failovers !== undefined) {
      result.failovers = failovers.map((failover) => ({
        ...failover,
        atMs: Math.round(failover.atMs - loadStartedAt),
      }));
      const first = Math.floor(loadStartedAt / TIMELINE_MS);
      result.timeline = [...tally.timeline]
        .filter(([slot]) => slot >= first)
        .sort(([a], [b]) => a - b)
        .map(([, counts]) => [counts.ok, counts.unavailable, counts.other]);
    }
    result.failures = [...judge(result, rig), ...((await rig.check?.(result)) ?? [])];
    result.passed = result.failures.length === 0;
    return result;
  } finally {
    events.close();
    client.close();
    await app.close();
    await manager.close();
    await rig.close();
  }
}

/** The promises every scenario keeps. */
function judge(result: ScenarioResult, rig: Rig): string[] {
  const failures: string[] = [];
  const other = countOther(result.byStatus, rig.statuses);
  if (other > 0) failures.push(`${other} replies with a status other than ${rig.statuses.join('/')}`);
  // Where loss is measured, a lost write shows as a counter or key that went back: counted, not judged.
  const measured = [
    ...(rig.loss === 'measured' ? ['counter', 'value'] : []),
    ...(rig.allowLateWrites ? ['late-write'] : []),
  ];
  const violations = Object.entries(result.violations)
    .filter(([kind]) => !measured.includes(kind))
    .reduce((sum, [, count]) => sum + count, 0);
  if (violations > 0)
    failures.push(`${violations} contract violations: ${JSON.stringify(result.violations)}`);
  const expectedLoss = rig.loss === 'none' ? 0 : result.sessionsBefore;
  if (rig.loss !== 'measured' && result.sessionsLost !== expectedLoss) {
    failures.push(`${result.sessionsLost} sessions lost, expected ${expectedLoss}`);
  }
  const settled =
    (result.final.ok ?? 0) +
    (result.final.none ?? 0) +
    (rig.loss === 'measured' ? (result.final.lost ?? 0) + (result.final.wrong ?? 0) : 0);
  if (settled !== result.visitors) failures.push(`final reads: ${JSON.stringify(result.final)}`);
  if (result.firstSuccessMs === null) failures.push('no request succeeded after the fault ended');
  if ((result.appErrors.unexpected ?? 0) > 0)
    failures.push(`${result.appErrors.unexpected} unexpected app errors`);
  if ((result.events['decode-error'] ?? 0) > 0)
    failures.push(`${result.events['decode-error']} decode errors`);
  return failures;
}
