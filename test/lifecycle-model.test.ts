/**
 * The lifecycle model check (issue 11) on every store: see test/lifecycle/model.ts for the invariant
 * checked. Each history is seeded; a failure prints its seed (rerun with LIFECYCLE_SEED=<seed>).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import mysql2 from 'mysql2/promise';
import { randomString } from '../src/core/crypto.js';
import { createMemcachedStore } from '../src/stores/memcached.js';
import { createMemoryStore } from '../src/stores/memory.js';
import { createMysqlStore } from '../src/stores/mysql.js';
import { createRedisStore } from '../src/stores/redis.js';
import { createSqliteStore } from '../src/stores/sqlite.js';
import { createTieredStore } from '../src/stores/tiered.js';
import type { SessionStore } from '../src/stores/types.js';
import { testMemcachedClient } from '../tools/memcached-server.js';
import { serviceSkip, services, startMemcached } from '../tools/services.js';
import { postgresTable } from './fixtures/postgres-table.js';
import { type ModelTarget, runHistory } from './lifecycle/model.js';
import { remoteStore } from './lifecycle/remote-store.js';

const postgresSkip = await serviceSkip('PostgreSQL', services.postgres.port, services.postgres.host);
const redisSkip = await serviceSkip('Redis', services.redis.port, services.redis.host);
const mysqlSkip = await serviceSkip('MariaDB/MySQL', services.mysql.port, services.mysql.host);
const clusterSkip = await serviceSkip(
  'Redis Cluster',
  services.redisCluster.port,
  services.redisCluster.host,
);

const HISTORIES = Number(process.env.LIFECYCLE_HISTORIES ?? 2);
const BASE_SEED = Number(process.env.LIFECYCLE_SEED ?? Math.floor(Math.random() * 1_000_000));
const SIZE = { sessions: 4, clientsPerSession: 5, opsPerClient: 8, maxDelayMs: 6 };
/** A short lease keeps the history fast: every logout, login and rotation waits it out. */
const LEASE_MS = 30;
/**
 * In two processes the lease is the window in which the other process could serve a stale copy: long
 * enough that a missing lease wait shows up as a violation (checked by breaking it), short enough to run.
 */
const PROCESS_LEASE_MS = 300;

/** Runs the histories on a target set up by `setup` and asserts no violation. */
function check(
  name: string,
  setup: () => Promise<ModelTarget & { cleanup: () => Promise<unknown> }>,
  skip: false | string = false,
) {
  it(`${name}: no history breaks the lifecycle invariant`, { skip }, async () => {
    const target = await setup();
    try {
      const failures: string[] = [];
      let requests = 0;
      for (let h = 0; h < HISTORIES; h++) {
        const result = await runHistory(target, { seed: BASE_SEED + h, ...SIZE });
        requests += result.requests;
        if (result.violations.length > 0) {
          const kinds = new Map<string, number>();
          for (const v of result.violations)
            kinds.set(v.split(' ')[0] ?? '', (kinds.get(v.split(' ')[0] ?? '') ?? 0) + 1);
          const counts = [...kinds].map(([kind, n]) => `${kind}×${n}`).join(' ');
          failures.push(
            `seed ${result.seed} (${result.requests} requests, ${result.lineages} lineages, ${result.revoked} revoked, ${result.rotations} rotations) ${counts}:\n  ${result.violations.slice(0, 6).join('\n  ')}`,
          );
        }
      }
      assert.ok(requests > 0);
      assert.deepEqual(failures, [], `rerun with LIFECYCLE_SEED=${BASE_SEED}\n${failures.join('\n')}`);
    } finally {
      await target.cleanup();
    }
  });
}

/** Deletes every key under `prefix` on each node, one key per command (Cluster nodes refuse cross-slot). */
async function deleteKeys(nodes: Redis[], prefix: string): Promise<void> {
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) await node.unlink(key);
    } while (cursor !== '0');
  }
}

const single = (store: SessionStore, perUser: boolean, cleanup: () => Promise<unknown>) => ({
  stores: [store],
  perUser,
  cleanup,
});

describe(`lifecycle model check (LIFECYCLE_SEED=${BASE_SEED})`, { concurrency: true }, () => {
  check('memory', async () => {
    const store = createMemoryStore({ sweepIntervalSeconds: 0 });
    return single(store, true, () => store.close());
  });

  check('SQLite', async () => {
    const store = createSqliteStore(':memory:', { pruneIntervalSeconds: 0 });
    return single(store, true, () => store.close());
  });

  check(
    'PostgreSQL',
    async () => {
      const table = postgresTable(createClockless(), 'sk_model');
      return single(table.store, true, () => table.drop());
    },
    postgresSkip,
  );

  check(
    'MariaDB (mysql2)',
    async () => {
      const pool = mysql2.createPool({ ...services.mysql, connectionLimit: 4 });
      const table = `sk_model_${randomString(6).replace(/[^A-Za-z0-9]/g, '_')}`;
      return single(createMysqlStore(pool, { table }), true, async () => {
        await pool.query(`DROP TABLE IF EXISTS ${table}`);
        await pool.end();
      });
    },
    mysqlSkip,
  );

  check(
    'Redis (ioredis)',
    async () => {
      const client = new Redis(services.redis);
      const keyPrefix = `sk-model:${randomString(6)}:`;
      const store = createRedisStore(client, { keyPrefix, checkEvictionPolicy: false });
      return single(store, true, async () => {
        await deleteKeys([client], keyPrefix);
        await client.quit();
      });
    },
    redisSkip,
  );

  check(
    'Redis Cluster (ioredis, 3 masters)',
    async () => {
      const cluster = new Cluster([services.redisCluster]);
      const keyPrefix = `sk-model:${randomString(6)}:`;
      const store = createRedisStore(cluster, { keyPrefix, checkEvictionPolicy: false });
      return single(store, true, async () => {
        await deleteKeys(cluster.nodes('master'), keyPrefix);
        await cluster.quit();
      });
    },
    clusterSkip,
  );

  // No per-user index: revokeUserSessions is left out, everything else runs.
  check('Memcached', async () => {
    const server = await startMemcached({ memoryMb: 16 });
    const client = testMemcachedClient(server.address);
    const store = createMemcachedStore(client, { keyPrefix: `sk-model:${randomString(6)}:` });
    return single(store, false, async () => {
      client.close();
      await server.stop();
    });
  });

  check('tiered memory→SQLite', async () => {
    const cache = createMemoryStore({ sweepIntervalSeconds: 0 });
    const durable = createSqliteStore(':memory:', { pruneIntervalSeconds: 0 });
    const store = createTieredStore({ cache, durable, cacheLeaseMs: LEASE_MS });
    return single(store, true, async () => {
      await cache.close();
      await durable.close();
    });
  });

  check(
    'tiered Redis→PostgreSQL',
    async () => {
      const client = new Redis(services.redis);
      const keyPrefix = `sk-model:${randomString(6)}:`;
      const table = postgresTable(createClockless(), 'sk_model');
      const cache = createRedisStore(client, { keyPrefix, checkEvictionPolicy: false });
      const store = createTieredStore({ cache, durable: table.store });
      return single(store, true, async () => {
        await deleteKeys([client], keyPrefix);
        await client.quit();
        await table.drop();
      });
    },
    redisSkip || postgresSkip,
  );

  // Two app processes, each with its own memory cache, over one SQLite file; the browsers of one
  // session send their requests to both.
  check('tiered memory→SQLite file in two processes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sk-model-'));
    const file = join(dir, 'sessions.db');
    const setup = await remoteStore('sqlite', file, { cacheLeaseMs: 0, durableOnly: true });
    await setup.get('x');
    await setup.close();
    const stores = await Promise.all(
      [0, 1].map(() => remoteStore('sqlite', file, { cacheLeaseMs: PROCESS_LEASE_MS })),
    );
    return {
      stores,
      perUser: true,
      staleMs: PROCESS_LEASE_MS,
      cleanup: async () => {
        await Promise.all(stores.map((store) => store.close()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});

/** The stores' own clocks are the system clock; the fixture's table only needs one for TTLs. */
function createClockless() {
  return { now: () => Date.now() };
}
