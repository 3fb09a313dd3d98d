/**
 * Public entry `sessionkit/stores/sqlite`: a durable store in an embedded SQLite database, safe for
 * several processes sharing one file (every patch is one `BEGIN IMMEDIATE` transaction).
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { type Clock, resolveClock } from '../core/clock.js';
import { describeError, publish } from '../core/diagnostics.js';
import { seconds } from '../core/options.js';
import { SessionConfigError } from '../errors.js';
import {
  decodeEntries,
  decodeRow,
  encodeData,
  encodeMeta,
  isObject,
  parseJson,
  reported,
  successorKey,
} from './internal/record-codec.js';
import { applyPatch, startInterval } from './internal/store-support.js';
import type { PatchResult, SessionEntry, SessionRecord, SessionStore } from './types.js';

/**
 * The prepared-statement methods the store calls (better-sqlite3's `Statement` fits). It binds only
 * strings, numbers and null.
 */
export interface SqliteStatementLike {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** The database methods the store calls: better-sqlite3's `Database` fits (see sqlite.test-d.ts). */
export interface SqliteLike {
  prepare(sql: string): SqliteStatementLike;
  exec(sql: string): unknown;
}

/** Options of `createSqliteStore`. */
export interface SqliteStoreOptions {
  /** Table name, a plain identifier (letters, digits, `_`); created with its indexes if missing. @default "sessions" */
  table?: string;
  /** Seconds between deletions of expired rows; 0 disables the timer (call `prune()` yourself). @default 300 */
  pruneIntervalSeconds?: number;
  /** Time source for expiry. @default the system clock */
  clock?: Clock;
}

/** The SQLite store: a `SessionStore` with a per-user index, `prune` and `close`. */
export interface SqliteStore extends SessionStore {
  readonly kind: 'sqlite';
  listByUser(userId: string): Promise<SessionEntry[]>;
  destroyByUser(userId: string, exceptKey?: string): Promise<number>;
  prune(): Promise<number>;
  /** Stops the prune timer and closes the database if the store opened it (never one it was given). */
  close(): Promise<void>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const BUSY_TIMEOUT_MS = 5000;

/**
 * Creates a SQLite store on a database file it opens (creating its directory; WAL mode, synchronous=FULL,
 * 5 s busy timeout; closed by `close()`) or on a database you pass and keep owning. Rows past `meta.expiresAt`
 * read as absent; a row that fails to decode reads as absent and publishes a `decode-error` event.
 * @example
 * const store = createSqliteStore('./data/sessions.db');
 * const manager = createSessionManager({ store });
 */
export function createSqliteStore(
  pathOrDatabase: string | SqliteLike,
  options: SqliteStoreOptions = {},
): SqliteStore {
  const table = options.table ?? 'sessions';
  if (typeof table !== 'string' || !IDENTIFIER.test(table) || table.toLowerCase().startsWith('sqlite_')) {
    throw new SessionConfigError(
      'table',
      'must be a plain identifier (letters, digits, _) not starting with sqlite_',
    );
  }
  const pruneSeconds = seconds('pruneIntervalSeconds', options.pruneIntervalSeconds, 300, 0, 2_147_483);
  const clock = resolveClock(options.clock);
  const owned = typeof pathOrDatabase === 'string' ? openDatabase(pathOrDatabase) : undefined;
  const db: SqliteLike = owned ?? givenDatabase(pathOrDatabase);
  const t = `"${table}"`;
  try {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${t} (key TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL, ` +
        'data TEXT NOT NULL, meta TEXT NOT NULL, user_id TEXT, expires_at INTEGER NOT NULL);' +
        `CREATE INDEX IF NOT EXISTS "${table}_user_id" ON ${t} (user_id) WHERE user_id IS NOT NULL;` +
        `CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON ${t} (expires_at);`,
    );
  } catch (error) {
    owned?.close();
    throw error;
  }
  const sql = {
    get: db.prepare(`SELECT version, data, meta FROM ${t} WHERE key = ? AND expires_at >= ?`),
    // An expired row counts as absent, so a set may replace it whatever its version.
    set: db.prepare(
      `INSERT INTO ${t} (key, version, data, meta, user_id, expires_at) VALUES (?, ?, ?, ?, ?, ?) ` +
        'ON CONFLICT (key) DO UPDATE SET version = excluded.version, data = excluded.data, meta = excluded.meta, ' +
        'user_id = excluded.user_id, expires_at = excluded.expires_at ' +
        `WHERE ${t}.version < excluded.version OR ${t}.expires_at < ?`,
    ),
    update: db.prepare(
      `UPDATE ${t} SET version = ?, data = ?, meta = ?, user_id = ?, expires_at = ? WHERE key = ?`,
    ),
    // One statement reads the successor and deletes the row (SQLite 3.35+ RETURNING): atomic.
    destroy: db.prepare(`DELETE FROM ${t} WHERE key = ? RETURNING meta`),
    list: db.prepare(`SELECT key, meta FROM ${t} WHERE user_id = ? AND expires_at >= ?`),
    destroyByUser: db.prepare(`DELETE FROM ${t} WHERE user_id = ? AND key IS NOT ? AND expires_at >= ?`),
    prune: db.prepare(`DELETE FROM ${t} WHERE expires_at < ?`),
    // IMMEDIATE takes the write lock before the read, so no other process can change the row in between.
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
  };

  const read = (key: string): SessionRecord | undefined => {
    const row = sql.get.get(key, clock.now());
    return row === undefined ? undefined : (reported('sqlite', decodeRow(row, parseJson)) ?? undefined);
  };
  const prune = (): number => Number(sql.prune.run(clock.now()).changes);
  const stopPruning = startInterval(pruneSeconds, () => {
    try {
      prune();
    } catch (error) {
      publish({ type: 'store-error', store: 'sqlite', reason: 'prune', error: describeError(error) });
    }
  });
  let closed = false;

  return {
    kind: 'sqlite',
    async get(key) {
      return read(key) ?? null;
    },
    async set(key, record) {
      sql.set.run(key, record.version, ...encode(record), clock.now());
    },
    async patch(key, patch): Promise<PatchResult> {
      sql.begin.run();
      try {
        const result = applyPatch(read(key), patch);
        if (result.status === 'ok') sql.update.run(result.record.version, ...encode(result.record), key);
        sql.commit.run();
        return result;
      } catch (error) {
        try {
          sql.rollback.run();
        } catch {
          // The transaction is already gone (a failed COMMIT rolls back); the first error is the one to report.
        }
        throw error;
      }
    },
    async destroy(key) {
      const row = sql.destroy.get(key);
      return { successor: isObject(row) ? successorKey(parseJson(row.meta)) : null };
    },
    async listByUser(userId) {
      return decodeEntries('sqlite', sql.list.all(userId, clock.now()), parseJson);
    },
    async destroyByUser(userId, exceptKey) {
      return Number(sql.destroyByUser.run(userId, exceptKey ?? null, clock.now()).changes);
    },
    async prune() {
      return prune();
    },
    async close() {
      if (closed) return;
      closed = true;
      stopPruning();
      owned?.close();
    },
  };
}

function givenDatabase(value: string | SqliteLike): SqliteLike {
  // Checked at run time too, for JavaScript callers.
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof value.prepare === 'function' &&
    typeof value.exec === 'function'
  ) {
    return value;
  }
  throw new SessionConfigError(
    'pathOrDatabase',
    'must be a file path or a database with prepare() and exec()',
  );
}

function openDatabase(path: string): BetterSqlite3.Database {
  let Database: typeof BetterSqlite3;
  try {
    // better-sqlite3 is an optional peer: loaded only when the store opens a file itself.
    Database = createRequire(import.meta.url)('better-sqlite3');
  } catch {
    throw new SessionConfigError(
      'pathOrDatabase',
      'opening a database file needs the better-sqlite3 package (npm install better-sqlite3), or pass a database',
    );
  }
  if (path !== '' && path !== ':memory:' && !path.startsWith('file:'))
    mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // better-sqlite3 builds SQLite so that a file already in WAL mode opens with synchronous=NORMAL, which
  // can lose the last commits on power loss; a durable session store asks for FULL explicitly.
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS};`);
  return db;
}

/** The `data, meta, user_id, expires_at` column values of a record. */
function encode(record: SessionRecord): [string, string, string | null, number] {
  const { meta } = record;
  return [encodeData(record.data), encodeMeta(meta), meta.userId ?? null, meta.expiresAt];
}
