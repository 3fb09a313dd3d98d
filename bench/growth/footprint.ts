/**
 * Bytes per stored session, sessionkit against express-session's stores holding the same data (the
 * counter and the ~200-byte profile; express-session adds its cookie object, as it always stores it).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SessionManager, SessionStore } from 'sessionkit';
import { createSessionManager } from 'sessionkit';
import { PG } from '../lib/services.js';
import { PROFILE } from '../servers/harness.js';
import { createSession } from './measure.js';

/** One figure of the footprint table. */
export interface Footprint {
  store: string;
  library: string;
  bytes: number;
  method: string;
}

const DATA = { n: 0, profile: PROFILE };
/** What express-session stores for the same session (its cookie object included, as it always is). */
const EXPRESS_SESSION = {
  cookie: { originalMaxAge: null, expires: null, secure: false, httpOnly: true, path: '/', sameSite: 'lax' },
  ...DATA,
};

type Manager = SessionManager<Record<string, unknown>>;
const managerOf = (store: SessionStore): Manager => createSessionManager({ store, insecureDevCookies: true });
const sid = (i: number) => `growth-session-${i}-${Math.random().toString(36).slice(2, 12)}`;

/** A store whose `set` takes a callback, as express-session's stores do. */
interface CallbackStore {
  set(sid: string, session: unknown, callback: (error?: unknown) => void): void;
}
const setAll = async (store: CallbackStore, count: number) => {
  const set = promisify((id: string, callback: (error?: unknown) => void) =>
    store.set(id, EXPRESS_SESSION, callback),
  );
  for (let i = 0; i < count; i++) await set(sid(i));
};

function heapUsed(): number {
  const gc = Reflect.get(globalThis, 'gc');
  if (typeof gc === 'function') {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

/** JS heap growth per session (needs --expose-gc). */
async function memory(count: number): Promise<Footprint[]> {
  const [{ createMemoryStore }, { default: session }] = await Promise.all([
    import('sessionkit/stores/memory'),
    import('express-session'),
  ]);
  const method = `JS heap growth over ${count} sessions, after gc`;
  let before = heapUsed();
  const store = createMemoryStore({ maxEntries: count + 10 });
  const manager = managerOf(store);
  for (let i = 0; i < count; i++) await createSession(manager, DATA);
  const sessionkit = (heapUsed() - before) / count;
  await store.close();
  before = heapUsed();
  const theirs = new session.MemoryStore();
  await setAll(theirs, count);
  const expressSession = (heapUsed() - before) / count;
  return [
    { store: 'memory', library: 'sessionkit', bytes: sessionkit, method },
    { store: 'memory', library: 'express-session MemoryStore', bytes: expressSession, method },
  ];
}

/** Redis `MEMORY USAGE` of every key each library wrote, per session. */
async function redis(port: number, count: number): Promise<Footprint[]> {
  const [{ Redis }, { createRedisStore }, { RedisStore }, { createClient }] = await Promise.all([
    import('ioredis'),
    import('sessionkit/stores/redis'),
    import('connect-redis'),
    import('redis'),
  ]);
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  await client.connect();
  const nodeRedis = createClient({ socket: { host: '127.0.0.1', port } });
  await nodeRedis.connect();
  const usage = async (prefix: string) => {
    let total = 0;
    for (const key of await client.keys(`${prefix}*`)) total += Number(await client.memory('USAGE', key));
    return total / count;
  };
  try {
    await client.flushdb(); // the private server of this run
    const manager = managerOf(createRedisStore(client, { keyPrefix: 'fp:sk:' }));
    for (let i = 0; i < count; i++) await createSession(manager, DATA);
    await setAll(new RedisStore({ client: nodeRedis, prefix: 'fp:cr:' }), count);
    const method = `MEMORY USAGE summed over the keys each library wrote for ${count} sessions`;
    return [
      { store: 'redis', library: 'sessionkit', bytes: await usage('fp:sk:'), method },
      { store: 'redis', library: 'express-session + connect-redis', bytes: await usage('fp:cr:'), method },
    ];
  } finally {
    await client.flushdb();
    await Promise.all([client.quit(), nodeRedis.quit()]);
  }
}

/** PostgreSQL: average row size (pg_column_size) and total relation size (table, TOAST, indexes) per row. */
async function postgres(count: number): Promise<Footprint[]> {
  const [{ default: pg }, { createPostgresStore }, { default: session }, { default: connectPgSimple }] =
    await Promise.all([
      import('pg'),
      import('sessionkit/stores/postgres'),
      import('express-session'),
      import('connect-pg-simple'),
    ]);
  const pool = new pg.Pool(PG);
  const suffix = Math.random().toString(36).slice(2, 10);
  const ours = `growth_sk_${suffix}`;
  const theirs = `growth_cps_${suffix}`;
  const measure = async (table: string) => {
    const { rows } = await pool.query(
      `SELECT avg(pg_column_size(t.*))::float AS row, (pg_total_relation_size('${table}')::float / count(*)) AS total FROM ${table} t`,
    );
    return { row: Number(rows[0]?.row), total: Number(rows[0]?.total) };
  };
  try {
    const store = createPostgresStore(pool, { table: ours });
    await store.migrate();
    const manager = managerOf(store);
    for (let i = 0; i < count; i++) await createSession(manager, DATA);
    const PgStore = connectPgSimple(session);
    await pool.query(
      `CREATE TABLE ${theirs} (sid varchar NOT NULL PRIMARY KEY, sess json NOT NULL, expire timestamp(6) NOT NULL); CREATE INDEX ${theirs}_expire ON ${theirs} (expire)`,
    );
    await setAll(new PgStore({ pool, tableName: theirs }), count);
    const [a, b] = [await measure(ours), await measure(theirs)];
    const rowMethod = 'avg(pg_column_size(row))';
    const totalMethod = `pg_total_relation_size / rows (${count} rows, indexes included)`;
    return [
      { store: 'postgres (row)', library: 'sessionkit', bytes: a.row, method: rowMethod },
      {
        store: 'postgres (row)',
        library: 'express-session + connect-pg-simple',
        bytes: b.row,
        method: rowMethod,
      },
      { store: 'postgres (table)', library: 'sessionkit', bytes: a.total, method: totalMethod },
      {
        store: 'postgres (table)',
        library: 'express-session + connect-pg-simple',
        bytes: b.total,
        method: totalMethod,
      },
    ];
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${ours}; DROP TABLE IF EXISTS ${theirs}`);
    await pool.end();
  }
}

/** SQLite: database file growth per session (the store closed, so its WAL is checkpointed into the file). */
async function sqlite(dir: string, count: number): Promise<Footprint[]> {
  const { createSqliteStore } = await import('sessionkit/stores/sqlite');
  const size = async (path: string) => (await stat(path)).size;
  const path = join(dir, 'footprint.db');
  let store = createSqliteStore(path);
  await createSession(managerOf(store), DATA);
  await store.close();
  const before = await size(path);
  store = createSqliteStore(path);
  const manager = managerOf(store);
  for (let i = 0; i < count; i++) await createSession(manager, DATA);
  await store.close();
  const method = `database file growth over ${count} sessions (page-granular)`;
  return [{ store: 'sqlite', library: 'sessionkit', bytes: ((await size(path)) - before) / count, method }];
}

/** Every footprint figure that could be measured; what could not goes to `unavailable`. */
export async function bytesPerSession(
  dir: string,
  redisPort: number,
  count: number,
  unavailable: Record<string, string>,
): Promise<Footprint[]> {
  const out: Footprint[] = [];
  const steps: Array<[string, () => Promise<Footprint[]>]> = [
    ['memory', () => memory(count)],
    ['redis', () => redis(redisPort, count)],
    ['postgres', () => postgres(count)],
    ['sqlite', () => sqlite(dir, count)],
  ];
  for (const [name, step] of steps) {
    try {
      out.push(...(await step()));
    } catch (error) {
      unavailable[`footprint:${name}`] = error instanceof Error ? error.message : String(error);
    }
  }
  return out;
}
