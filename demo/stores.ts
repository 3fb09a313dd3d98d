/**
 * Picks the session backend from the environment (`SESSION_STORE` and friends). Drivers are imported
 * lazily, so the default (SQLite) needs no service and no driver but better-sqlite3.
 */
import { randomBytes } from 'node:crypto';
import { join, relative, resolve } from 'node:path';
import type {
  LifetimeOptions,
  Session,
  SessionManager,
  SessionStore,
  StoreSessionManager,
  UserSessionInfo,
} from '../src/index.js';
import { createSessionManager } from '../src/index.js';
import type { ShopData } from './cart.js';

/** The values `SESSION_STORE` accepts. */
export const STORE_KINDS = [
  'memory',
  'sqlite',
  'postgres',
  'redis',
  'memcached',
  'tiered',
  'cookie',
] as const;

/** One of `STORE_KINDS`. */
export type StoreKind = (typeof STORE_KINDS)[number];

/** Listing and revoking one user's sessions, where the store keeps a per-user index. */
export interface UserSessions {
  list(userId: string, current: Session<ShopData>): Promise<UserSessionInfo[]>;
  /** Destroys the session with public id `id` if it is one of `userId`'s; false when it is not. */
  revoke(userId: string, id: string): Promise<boolean>;
}

/** The session manager the shop runs on, and what the pages say about it. */
export interface SessionBackend {
  readonly manager: SessionManager<ShopData>;
  readonly kind: StoreKind;
  /** Where sessions live, for people: e.g. `sqlite (.data/sessions.db)`. */
  readonly description: string;
  /** Undefined when the store cannot index sessions by user (memcached, cookie-only). */
  readonly userSessions: UserSessions | undefined;
  /** False in plain-HTTP development mode (`insecureDevCookies`). */
  readonly secureCookies: boolean;
  readonly idleTimeoutSeconds: number;
  readonly absoluteTimeoutSeconds: number;
  /** Things the operator should know at startup. */
  readonly warnings: readonly string[];
  /** Closes the store and the clients the backend opened. */
  close(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** A store with what it takes to describe and close it. */
interface OpenedStore {
  store: SessionStore;
  description: string;
  close(): Promise<void>;
}

/** Same values as the library's defaults; the demo states them so the session panel can show expiries. */
const DEFAULT_IDLE_SECONDS = 1800;
const DEFAULT_ABSOLUTE_SECONDS = 43_200;
const KEY_PREFIX = 'shop:';
const PG_TABLE = 'shop_sessions';

/** Creates the backend that `SESSION_STORE` (default `sqlite`) names. */
export async function createSessionBackend(env: Env): Promise<SessionBackend> {
  const kind = storeKindOf(env.SESSION_STORE);
  const trustProxy = env.TRUST_PROXY === '1';
  const idle = envSeconds(env, 'IDLE_TIMEOUT_SECONDS') ?? DEFAULT_IDLE_SECONDS;
  const absolute = envSeconds(env, 'ABSOLUTE_TIMEOUT_SECONDS') ?? DEFAULT_ABSOLUTE_SECONDS;
  const lifetimes: LifetimeOptions = {
    idleTimeoutSeconds: idle,
    absoluteTimeoutSeconds: absolute,
    // The demo serves plain HTTP on localhost; only behind an HTTPS proxy can the cookie be Secure.
    insecureDevCookies: !trustProxy,
    trustProxy,
  };
  const shared = {
    kind,
    secureCookies: trustProxy,
    idleTimeoutSeconds: idle,
    absoluteTimeoutSeconds: absolute,
  };

  if (kind === 'cookie') {
    const { createCookieSessionManager } = await import('../src/cookie-session.js');
    const warnings: string[] = [];
    let secret = env.SESSION_SECRET;
    if (secret === undefined || secret === '') {
      secret = randomBytes(32).toString('base64url');
      warnings.push('SESSION_SECRET is not set: using a random secret, so every session dies on restart');
    }
    return {
      ...shared,
      manager: createCookieSessionManager<ShopData>({ ...lifetimes, secrets: [secret] }),
      description: 'cookie (sealed with AES-256-GCM into the cookie, no store)',
      userSessions: undefined,
      warnings,
      close: async () => {},
    };
  }

  const opened = await openStore(kind, env);
  const rotate = envSeconds(env, 'ROTATE_AFTER_SECONDS');
  try {
    const manager = createSessionManager<ShopData>({
      ...lifetimes,
      store: opened.store,
      ...(rotate === undefined ? {} : { rotateAfterSeconds: rotate, rotationGraceSeconds: graceFor(rotate) }),
    });
    return {
      ...shared,
      manager,
      description: opened.description,
      userSessions: userSessionsOf(manager),
      warnings: [],
      close: () => opened.close(),
    };
  } catch (error) {
    await opened.close();
    throw error;
  }
}

function storeKindOf(value: string | undefined): StoreKind {
  if (value === undefined || value === '') return 'sqlite';
  const kind = STORE_KINDS.find((k) => k === value);
  if (kind === undefined) {
    throw new Error(`SESSION_STORE=${JSON.stringify(value)} is not one of ${STORE_KINDS.join(', ')}`);
  }
  return kind;
}

function envSeconds(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new Error(`${name} must be a whole number of seconds`);
  return Number(value);
}

/** The rotation grace window must be shorter than the rotation interval: 60 s, or half a short interval. */
function graceFor(rotateSeconds: number): number {
  return Math.min(60, Math.max(1, Math.floor(rotateSeconds / 2)));
}

async function openStore(kind: Exclude<StoreKind, 'cookie'>, env: Env): Promise<OpenedStore> {
  switch (kind) {
    case 'memory':
      return openMemory();
    case 'sqlite':
      return openSqlite(env);
    case 'postgres':
      return openPostgres(env);
    case 'redis':
      return openRedis(env);
    case 'memcached':
      return openMemcached(env);
    case 'tiered':
      return openTiered(env);
  }
}

async function openMemory(): Promise<OpenedStore> {
  const { createMemoryStore } = await import('../src/stores/memory.js');
  const store = createMemoryStore();
  return { store, description: 'memory (in this process: gone on restart)', close: () => store.close() };
}

async function openSqlite(env: Env): Promise<OpenedStore> {
  const { createSqliteStore } = await import('../src/stores/sqlite.js');
  const file = join(resolve(env.DATA_DIR || '.data'), 'sessions.db');
  const store = createSqliteStore(file);
  const shown = relative(process.cwd(), file);
  return {
    store,
    description: `sqlite (${shown.startsWith('..') ? file : shown})`,
    close: () => store.close(),
  };
}

async function openPostgres(env: Env): Promise<OpenedStore> {
  const { Pool } = await import('pg');
  const { createPostgresStore } = await import('../src/stores/postgres.js');
  const url = env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const pool = new Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 2000 });
  // An idle client that loses its server emits 'error' on the pool; without a listener that kills the process.
  pool.on('error', () => {});
  return {
    store: createPostgresStore(pool, { table: PG_TABLE }),
    description: `postgres (${redact(url)}, table ${PG_TABLE})`,
    close: () => pool.end(),
  };
}

async function openRedis(env: Env): Promise<OpenedStore> {
  const { Redis } = await import('ioredis');
  const { createRedisStore } = await import('../src/stores/redis.js');
  const url = env.REDIS_URL || 'redis://127.0.0.1:6379';
  // A request fails (503) after two reconnection attempts instead of waiting for the default twenty.
  const client = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true });
  client.on('error', () => {});
  return {
    store: createRedisStore(client, { keyPrefix: KEY_PREFIX }),
    description: `redis (${redact(url)})`,
    close: async () => {
      client.disconnect();
    },
  };
}

async function openMemcached(env: Env): Promise<OpenedStore> {
  const { Client } = await import('memjs');
  const { createMemcachedStore } = await import('../src/stores/memcached.js');
  const servers = env.MEMCACHED_URL || '127.0.0.1:11211';
  const client = Client.create(servers, { timeout: 1, retries: 1, logger: { log() {} } });
  return {
    store: createMemcachedStore(client, { keyPrefix: KEY_PREFIX }),
    description: `memcached (${redact(servers)}: evicts, gone on restart)`,
    close: async () => client.close(),
  };
}

/** Cache: memcached when MEMCACHED_URL is set, else Redis. Durable: PostgreSQL when DATABASE_URL is set, else SQLite. */
async function openTiered(env: Env): Promise<OpenedStore> {
  const { createTieredStore } = await import('../src/stores/tiered.js');
  const cache = env.MEMCACHED_URL ? await openMemcached(env) : await openRedis(env);
  const durable = env.DATABASE_URL ? await openPostgres(env) : await openSqlite(env);
  const close = async () => {
    await Promise.allSettled([cache.close(), durable.close()]);
  };
  try {
    return {
      store: createTieredStore({ cache: cache.store, durable: durable.store }),
      description: `tiered (cache ${cache.description} → durable ${durable.description})`,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function userSessionsOf(manager: StoreSessionManager<ShopData>): UserSessions | undefined {
  if (manager.store.listByUser === undefined) return undefined;
  return {
    list: (userId, current) => manager.listUserSessions(userId, current),
    revoke: (userId, id) => manager.revokeSession(userId, id),
  };
}

/** A connection string without its password, fit for a log line or a page. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
