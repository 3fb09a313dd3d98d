/**
 * The concurrency run: many simulated users at once against the Express load app, each doing a random
 * mix of reads, `set`s and `update`s on its own session (sometimes several in parallel, as the
 * requests of one page), with token rotation on, while keeping its own model. At the end every
 * user's session must equal its model: no lost update, no data from another session.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { SessionStore } from '../../src/index.js';
import { createSessionManager } from '../../src/index.js';
import { createPostgresStore } from '../../src/stores/postgres.js';
import { createRedisStore } from '../../src/stores/redis.js';
import { createTieredStore } from '../../src/stores/tiered.js';
import { type PostgresServer, startPostgres, startRedisServer } from '../../tools/services.js';
import { round } from '../../tools/stats.js';
import { type LoadData, startLoadApp } from './app.js';
import { createHttpClient } from './http.js';
import { EventCounter, startLoad } from './load.js';
import { countOther, Tally } from './tally.js';
import { Visitor } from './visitor.js';

/** Options of `runConcurrency`. */
export interface ConcurrencyOptions {
  clients: number;
  durationMs: number;
  /** Chance that a step is a burst of 2–4 parallel requests. */
  burstChance: number;
  /** Seconds between token rotations (the grace window is half of it). */
  rotateAfterSeconds: number;
}

/** CI-sized run. */
export const QUICK_CONCURRENCY: ConcurrencyOptions = {
  clients: 50,
  durationMs: 5000,
  burstChance: 0.2,
  rotateAfterSeconds: 2,
};
/** `npm run concurrency`. */
export const FULL_CONCURRENCY: ConcurrencyOptions = {
  clients: 200,
  durationMs: 60_000,
  burstChance: 0.2,
  rotateAfterSeconds: 10,
};

/** What one run found. */
export interface ConcurrencyResult {
  store: string;
  clients: number;
  durationMs: number;
  requests: number;
  byStatus: Record<string, number>;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Final reads: `ok` when the session equals the model. */
  final: Record<string, number>;
  sessionsLost: number;
  violations: Record<string, number>;
  examples: readonly string[];
  rotations: number;
  failures: string[];
  passed: boolean;
}

interface Backend {
  store: SessionStore;
  close(): Promise<void>;
}

async function redisBackend(): Promise<Backend> {
  const server = await startRedisServer();
  const client = new Redis({ host: '127.0.0.1', port: server.port });
  return {
    store: createRedisStore(client, { keyPrefix: 'conc:', checkEvictionPolicy: false }),
    async close() {
      client.disconnect();
      await server.close();
    },
  };
}

async function tieredBackend(postgres: PostgresServer): Promise<Backend> {
  const redis = await redisBackend();
  const pool = new pg.Pool({ ...postgres.connection, max: 20 });
  pool.on('error', () => undefined);
  return {
    store: createTieredStore({
      cache: redis.store,
      durable: createPostgresStore(pool, { table: 'concurrency' }),
    }),
    async close() {
      await pool.query('DROP TABLE IF EXISTS "concurrency"');
      await pool.end();
      await redis.close();
    },
  };
}

/** Runs the load against Express + Redis (`redis`) or Express + tiered Redis→PostgreSQL (`tiered`). */
export async function runConcurrency(
  kind: 'redis' | 'tiered',
  options: ConcurrencyOptions,
): Promise<ConcurrencyResult> {
  const postgres = kind === 'tiered' ? await startPostgres() : undefined;
  const backend = postgres === undefined ? await redisBackend() : await tieredBackend(postgres);
  const tally = new Tally();
  const events = new EventCounter();
  const manager = createSessionManager<LoadData>({
    store: backend.store,
    trustProxy: true,
    rotateAfterSeconds: options.rotateAfterSeconds,
    rotationGraceSeconds: Math.max(1, Math.floor(options.rotateAfterSeconds / 2)),
    idleTimeoutSeconds: 3600,
  });
  const app = await startLoadApp(manager);
  const client = createHttpClient(app.port, { sockets: options.clients * 4, timeoutMs: 30_000 });
  const visitors = Array.from(
    { length: options.clients },
    (_, i) => new Visitor(`${kind}-${i}`, client, tally, { cookieName: manager.cookieName, rotation: true }),
  );
  try {
    tally.phase = 'setup';
    await Promise.all(visitors.map((visitor) => visitor.start()));
    tally.phase = 'run';
    const load = startLoad(visitors, { burstChance: options.burstChance });
    await sleep(options.durationMs);
    await load.stop();
    tally.phase = 'final';
    const final: Record<string, number> = {};
    for (const verdict of await Promise.all(visitors.map((visitor) => visitor.verify()))) {
      final[verdict] = (final[verdict] ?? 0) + 1;
    }
    const run = tally.phases().run;
    const total = tally.total();
    const result: ConcurrencyResult = {
      store: kind === 'redis' ? 'Express + Redis' : 'Express + tiered Redis→PostgreSQL',
      clients: options.clients,
      durationMs: options.durationMs,
      requests: total.requests,
      byStatus: total.byStatus,
      requestsPerSecond: round((run?.requests ?? 0) / (options.durationMs / 1000), 0),
      p50Ms: run?.p50Ms ?? 0,
      p99Ms: run?.p99Ms ?? 0,
      final,
      sessionsLost: visitors.reduce((sum, visitor) => sum + visitor.lost, 0),
      violations: tally.violations,
      examples: tally.examples,
      rotations: events.get('rotated'),
      failures: [],
      passed: false,
    };
    const other = countOther(result.byStatus, ['200']);
    if (other > 0)
      result.failures.push(`${other} replies other than 200: ${JSON.stringify(result.byStatus)}`);
    if (tally.violationCount > 0) result.failures.push(`violations ${JSON.stringify(result.violations)}`);
    if (result.sessionsLost > 0) result.failures.push(`${result.sessionsLost} sessions lost`);
    if ((final.ok ?? 0) !== options.clients) result.failures.push(`final reads ${JSON.stringify(final)}`);
    result.passed = result.failures.length === 0;
    return result;
  } finally {
    events.close();
    client.close();
    await app.close();
    await backend.close();
    await postgres?.close();
  }
}
