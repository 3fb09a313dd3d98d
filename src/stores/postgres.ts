/**
 * Public entry `sessionkit/stores/postgres`: a durable store in PostgreSQL (10+). One row per session,
 * data and meta as json (the text as written: smaller than jsonb); a patch is one `UPDATE` that merges
 * the data with jsonb operators. Tables created before with jsonb columns keep working.
 *
 * @module
 */
import { type Clock, resolveClock } from '../core/clock.js';
import { sha1Hex } from '../core/crypto.js';
import { flag } from '../core/options.js';
import { SessionConfigError } from '../errors.js';
import { decodeEntries, decodeRow, encodeData, isObject, reported } from './internal/record-codec.js';
import { metaColumns, migrationGate, successorColumn, tableParts } from './internal/sql-support.js';
import type { PatchResult, SessionEntry, SessionPatch, SessionRecord, SessionStore } from './types.js';

/** A named prepared statement, pg's query config form: prepared once per connection, then executed by name. */
export interface PgPreparedQuery {
  name: string;
  text: string;
  values: unknown[];
}

/** What a query resolves to (the fields of pg's `QueryResult` the store reads). */
export interface PgResultLike {
  rows: unknown[];
  rowCount: number | null;
}

/**
 * The one method the store calls: `query` of a pg `Pool` or `Client` (or anything shaped like them),
 * with a named prepared statement for every session query and with plain text (several statements,
 * simple protocol) for the migration only.
 */
export interface PgLike {
  query(text: string): Promise<PgResultLike>;
  query(prepared: PgPreparedQuery): Promise<PgResultLike>;
}

/** Options of `createPostgresStore`. */
export interface PostgresStoreOptions {
  /**
   * Table name, optionally schema-qualified (`"app.sessions"`; the schema must exist). Letters, digits
   * and `_`, at most 63 characters per part; quoted in SQL, so case-sensitive. @default "sessions"
   */
  table?: string;
  /** Run `migrate()` (create the table and indexes if missing) before the first query. @default true */
  createTable?: boolean;
  /** Time source for `prune`. @default the system clock */
  clock?: Clock;
}

/** The PostgreSQL store: a `SessionStore` with a per-user index, `prune` and `migrate`. */
export interface PostgresStore extends SessionStore {
  readonly kind: 'postgres';
  listByUser(userId: string): Promise<SessionEntry[]>;
  destroyByUser(userId: string, exceptKey?: string): Promise<number>;
  /** Deletes the rows past `meta.expiresAt` now; resolves to how many. */
  prune(): Promise<number>;
  /** Creates the table and its indexes if they are missing; safe to run from many processes at once. */
  migrate(): Promise<void>;
}

/**
 * Creates a PostgreSQL store on a pg `Pool` (recommended) or `Client`, which the store never closes.
 * Creating it does no I/O, so an unreachable database fails the first request, not the app's startup.
 * @example
 * const store = createPostgresStore(new pg.Pool({ connectionString }), { table: 'app.sessions' });
 */
export function createPostgresStore(
  pgPoolOrClient: PgLike,
  options: PostgresStoreOptions = {},
): PostgresStore {
  const db = pgPoolOrClient;
  if (typeof db?.query !== 'function') {
    throw new SessionConfigError('pgPoolOrClient', 'must be a pg Pool or Client');
  }
  const tableName = options.table ?? 'sessions';
  const parts = tableParts(tableName, 63, 'schema');
  const createTable = flag('createTable', options.createTable, true);
  const clock = resolveClock(options.clock);

  const table = parts.map((part) => `"${part}"`).join('.');
  // Index names live in the table's schema; cut the base so both names stay distinct within 63 bytes.
  const base = (parts.at(-1) ?? 'sessions').slice(0, 48);
  // One simple-protocol query is one transaction on one connection, even through a Pool, so the
  // advisory lock serialises concurrent migrations (CREATE TABLE IF NOT EXISTS alone can race on pg_type).
  const ddl = `SELECT pg_advisory_xact_lock(hashtext('sessionkit:${tableName}'));
CREATE TABLE IF NOT EXISTS ${table} (key text PRIMARY KEY, version bigint NOT NULL, data json NOT NULL,
  meta json NOT NULL, user_id text, expires_at bigint NOT NULL);
CREATE INDEX IF NOT EXISTS "${base}_expires_at_idx" ON ${table} (expires_at);
CREATE INDEX IF NOT EXISTS "${base}_user_id_idx" ON ${table} (user_id) WHERE user_id IS NOT NULL;`;
  // Every statement works on json columns (tables created now) and on jsonb ones (created before).
  const sql = {
    get: prepared(`SELECT version, data, meta FROM ${table} WHERE key = $1`),
    // Parsed as jsonb once, so that a value jsonb cannot hold (U+0000) is refused as by a jsonb table.
    set: prepared(`INSERT INTO ${table} AS t (key, version, data, meta, user_id, expires_at)
VALUES ($1, $2, CASE WHEN $3::json::jsonb IS NOT NULL THEN $3::json END, $4::json, $5, $6)
ON CONFLICT (key) DO UPDATE SET version = excluded.version, data = excluded.data, meta = excluded.meta,
  user_id = excluded.user_id, expires_at = excluded.expires_at
WHERE t.version < excluded.version`),
    patch: prepared(`UPDATE ${table} SET data = (data::jsonb || $2::jsonb) - $3::text[], meta = $4::json,
  user_id = $5, expires_at = $6, version = version + 1
WHERE key = $1 AND meta->'successor' IS NULL AND ($7::bigint IS NULL OR version = $7::bigint)
RETURNING version, data, meta`),
    probe: prepared(`SELECT meta->'successor' IS NOT NULL AS rotated FROM ${table} WHERE key = $1`),
    // One statement deletes the row and returns its successor link: atomic, one round trip.
    destroy: prepared(`DELETE FROM ${table} WHERE key = $1 RETURNING meta->'successor'->>'key' AS successor`),
    list: prepared(`SELECT key, meta FROM ${table} WHERE user_id = $1`),
    destroyByUser: prepared(`DELETE FROM ${table} WHERE user_id = $1 AND key IS DISTINCT FROM $2`),
    prune: prepared(`DELETE FROM ${table} WHERE expires_at < $1`),
  };

  const migrate = async (): Promise<void> => {
    await db.query(ddl);
  };
  const ready = migrationGate(createTable, migrate);
  const query = async (statement: Statement, values: unknown[]) => {
    await ready();
    return db.query({ name: statement.name, text: statement.text, values });
  };

  return {
    kind: 'postgres',
    migrate,
    async get(key) {
      const { rows } = await query(sql.get, [key]);
      return rows.length === 0 ? null : decodePgRow(rows[0]);
    },
    async set(key, record) {
      await query(sql.set, [key, record.version, encodeData(record.data), ...metaColumns(record.meta)]);
    },
    async patch(key, patch): Promise<PatchResult> {
      const { rows } = await query(sql.patch, patchValues(key, patch));
      if (rows.length > 0) {
        const record = decodePgRow(rows[0]);
        return record ? { status: 'ok', record } : { status: 'missing' };
      }
      if (patch.ifVersion === undefined) return { status: 'missing' };
      // Only a miss costs this second query: it tells an absent or rotated-out row from a version conflict.
      const probe = await query(sql.probe, [key]);
      const row = probe.rows[0];
      return isObject(row) && row.rotated === false ? { status: 'conflict' } : { status: 'missing' };
    },
    async destroy(key) {
      const { rows } = await query(sql.destroy, [key]);
      return { successor: successorColumn(rows[0]) };
    },
    async listByUser(userId) {
      return decodeEntries('postgres', (await query(sql.list, [userId])).rows);
    },
    async destroyByUser(userId, exceptKey) {
      return (await query(sql.destroyByUser, [userId, exceptKey ?? null])).rowCount ?? 0;
    },
    async prune() {
      return (await query(sql.prune, [clock.now()])).rowCount ?? 0;
    },
  };
}

/** A session query as a named prepared statement. */
interface Statement {
  name: string;
  text: string;
}

/**
 * Names a statement after its text (which holds the table), so stores on different tables can share a
 * pool's connections: pg prepares each name once per connection and then only executes it.
 */
function prepared(text: string): Statement {
  return { name: `sessionkit_${sha1Hex(text).slice(0, 16)}`, text };
}

function patchValues(key: string, patch: SessionPatch): unknown[] {
  const set = encodeData(patch.set);
  return [key, set, [...patch.delete], ...metaColumns(patch.meta), patch.ifVersion ?? null];
}

/** pg parses json and jsonb itself; bigint arrives as a string. */
function decodePgRow(row: unknown): SessionRecord | null {
  return reported('postgres', decodeRow(row));
}
