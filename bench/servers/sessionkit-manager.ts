/**
 * Builds the sessionkit manager a sessionkit server uses, from `BENCH_STORE`: memory, sqlite,
 * postgres, redis, tiered (Redis → PostgreSQL) or cookie (sealed cookie, no store). Parts of
 * sessionkit that are not written yet make the server report "not available" (see harness `start`).
 */
import type { SessionDataShape, SessionManager, SessionStore, UntypedSessionData } from 'sessionkit';
import { count, countPgStatements, countRedisCommands, env, SECRET, unavailable } from './harness.js';

/** A manager and what to release when the server stops. */
export interface BenchManager<Data extends SessionDataShape> {
  manager: SessionManager<Data>;
  close: () => Promise<unknown>;
}

// Plain HTTP on loopback: the only way to get a cookie over http:// (see the brief's method notes).
const common = { insecureDevCookies: true } as const;

/** Counts store calls for in-process stores (memory, SQLite), where no server can count for us. */
function counted(inner: SessionStore): SessionStore {
  return {
    kind: inner.kind,
    get: (key) => {
      count('store:get');
      return inner.get(key);
    },
    set: (key, record) => {
      count('store:set');
      return inner.set(key, record);
    },
    patch: (key, patch) => {
      count('store:patch');
      return inner.patch(key, patch);
    },
    destroy: (key) => {
      count('store:destroy');
      return inner.destroy(key);
    },
    close: async () => inner.close?.(),
  };
}

async function redisStore(): Promise<{ store: SessionStore; close: () => Promise<unknown> }> {
  const [{ Redis }, { createRedisStore }] = await Promise.all([
    import('ioredis'),
    import('sessionkit/stores/redis'),
  ]);
  const client = new Redis({ host: '127.0.0.1', port: env.redisPort, lazyConnect: true });
  await client.connect();
  countRedisCommands(client);
  return { store: createRedisStore(client, { keyPrefix: env.prefix }), close: () => client.quit() };
}

async function postgresStore(): Promise<{ store: SessionStore; close: () => Promise<unknown> }> {
  await countPgStatements();
  const [{ default: pg }, { createPostgresStore }] = await Promise.all([
    import('pg'),
    import('sessionkit/stores/postgres'),
  ]);
  const pool = new pg.Pool(env.pg);
  const store = createPostgresStore(pool, { table: env.table });
  // Create the table now, so that no DDL lands inside a measurement.
  await store.migrate();
  return { store, close: () => pool.end() };
}

async function openStore(): Promise<{ store: SessionStore; close: () => Promise<unknown> }> {
  switch (env.store) {
    case 'memory': {
      const { createMemoryStore } = await import('sessionkit/stores/memory');
      const store = createMemoryStore();
      return { store: counted(store), close: () => store.close() };
    }
    case 'sqlite': {
      const { createSqliteStore } = await import('sessionkit/stores/sqlite');
      const store = createSqliteStore(env.sqlitePath);
      return { store: counted(store), close: () => store.close() };
    }
    case 'postgres':
      return postgresStore();
    case 'redis':
      return redisStore();
    case 'tiered': {
      const [{ createTieredStore }, cache, durable] = await Promise.all([
        import('sessionkit/stores/tiered'),
        redisStore(),
        postgresStore(),
      ]);
      return {
        store: createTieredStore({ cache: cache.store, durable: durable.store }),
        close: () => Promise.all([cache.close(), durable.close()]),
      };
    }
    default:
      return unavailable(`unknown store "${env.store}"`);
  }
}

/** The manager for `BENCH_STORE`, with sessionkit's defaults apart from plain-HTTP cookies. */
export async function createBenchManager<Data extends SessionDataShape = UntypedSessionData>(): Promise<
  BenchManager<Data>
> {
  if (env.store === 'cookie') {
    const { createCookieSessionManager } = await import('sessionkit/cookie-session');
    return {
      manager: createCookieSessionManager<Data>({ ...common, secrets: [SECRET] }),
      close: async () => undefined,
    };
  }
  const { createSessionManager } = await import('sessionkit');
  const { store, close } = await openStore();
  return { manager: createSessionManager<Data>({ ...common, store }), close };
}
