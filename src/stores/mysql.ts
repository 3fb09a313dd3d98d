/**
 * Public entry `sessionkit/stores/mysql`: a durable store in MySQL 8 or MariaDB 10.11+, through a
 * `mysql2/promise` or `mariadb` pool. One row per session, data and meta as JSON (MariaDB keeps JSON as
 * checked LONGTEXT); a patch is one `UPDATE` that edits the data with `JSON_SET`/`JSON_REMOVE`.
 *
 * @module
 */
import { type Clock, resolveClock } from '../core/clock.js';
import { flag } from '../core/options.js';
import { SessionConfigError } from '../errors.js';
import {
  changedRows,
  inTransaction,
  jsonColumn,
  type MysqlLike,
  type MysqlQueryable,
  selectRows,
} from './internal/mysql-driver.js';
import { decodeEntries, decodeRow, encodeData, reported } from './internal/record-codec.js';
import { metaColumns, migrationGate, successorColumn, tableParts } from './internal/sql-support.js';
import type {
  DestroyResult,
  PatchResult,
  SessionEntry,
  SessionPatch,
  SessionRecord,
  SessionStore,
} from './types.js';

export type { MysqlConnectionLike, MysqlLike, MysqlQueryable } from './internal/mysql-driver.js';

/** Options of `createMysqlStore`. */
export interface MysqlStoreOptions {
  /**
   * Table name, optionally database-qualified (`"app.sessions"`; the database must exist). Letters, digits
   * and `_`, at most 64 characters per part. @default "sessions"
   */
  table?: string;
  /** Run `migrate()` (create the table and its indexes if missing) before the first query. @default true */
  createTable?: boolean;
  /** Time source for `prune`. @default the system clock */
  clock?: Clock;
}

/** The MySQL/MariaDB store: a `SessionStore` with a per-user index, `prune` and `migrate`. */
export interface MysqlStore extends SessionStore {
  readonly kind: 'mysql';
  /** Removes the record and resolves to its successor key (`null` when it had none or did not exist). */
  destroy(key: string): Promise<DestroyResult>;
  listByUser(userId: string): Promise<SessionEntry[]>;
  destroyByUser(userId: string, exceptKey?: string): Promise<number>;
  /** Deletes the rows past `meta.expiresAt` now; resolves to how many. */
  prune(): Promise<number>;
  /** Creates the table and its indexes if they are missing; safe to run from many processes at once. */
  migrate(): Promise<void>;
}

/**
 * Creates a MySQL/MariaDB store on a `mysql2/promise` or `mariadb` pool (rows as objects, the drivers'
 * default), which the store never closes. Creating it does no I/O.
 * @example
 * const store = createMysqlStore(mysql.createPool({ uri, connectionLimit: 10 }), { table: 'sessions' });
 */
export function createMysqlStore(pool: MysqlLike, options: MysqlStoreOptions = {}): MysqlStore {
  if (typeof pool?.query !== 'function' || typeof pool.getConnection !== 'function') {
    throw new SessionConfigError('pool', 'must be a mysql2/promise or mariadb pool');
  }
  const parts = tableParts(options.table ?? 'sessions', 64, 'database');
  const createTable = flag('createTable', options.createTable, true);
  const clock = resolveClock(options.clock);

  const table = parts.map((part) => `\`${part}\``).join('.');
  // Keys (base64url) and user ids compare byte for byte; CREATE TABLE IF NOT EXISTS is atomic with its indexes.
  const ddl = `CREATE TABLE IF NOT EXISTS ${table} (
  \`key\` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  version BIGINT NOT NULL, data JSON NOT NULL, meta JSON NOT NULL,
  user_id VARCHAR(256) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL, expires_at BIGINT NOT NULL,
  INDEX expires_at_idx (expires_at), INDEX user_id_idx (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
  // Assignments run left to right, so version is compared before it is replaced (it comes last).
  const newer = 'version < VALUES(version)';
  const sql = {
    get: `SELECT version, data, meta FROM ${table} WHERE \`key\` = ?`,
    set: `INSERT INTO ${table} (\`key\`, version, data, meta, user_id, expires_at) VALUES (?, ?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE data = IF(${newer}, VALUES(data), data), meta = IF(${newer}, VALUES(meta), meta),
  user_id = IF(${newer}, VALUES(user_id), user_id), expires_at = IF(${newer}, VALUES(expires_at), expires_at),
  version = IF(${newer}, VALUES(version), version)`,
    lockSuccessor: `SELECT JSON_UNQUOTE(JSON_EXTRACT(meta, '$.successor.key')) AS successor FROM ${table}
WHERE \`key\` = ? FOR UPDATE`,
    destroy: `DELETE FROM ${table} WHERE \`key\` = ?`,
    list: `SELECT \`key\`, meta FROM ${table} WHERE user_id = ?`,
    destroyByUser: `DELETE FROM ${table} WHERE user_id = ? AND (? IS NULL OR \`key\` <> ?)`,
    prune: `DELETE FROM ${table} WHERE expires_at < ?`,
  };

  const migrate = async (): Promise<void> => {
    await changedRows(pool, ddl, []);
  };
  const ready = migrationGate(createTable, migrate);
  const rows = async (text: string, values: unknown[]) => {
    await ready();
    return selectRows(pool, text, values);
  };
  const write = async (text: string, values: unknown[]) => {
    await ready();
    return changedRows(pool, text, values);
  };

  return {
    kind: 'mysql',
    migrate,
    async get(key) {
      const [row] = await rows(sql.get, [key]);
      return row === undefined ? null : decodeMysqlRow(row);
    },
    async set(key, record) {
      await write(sql.set, [key, record.version, encodeData(record.data), ...metaColumns(record.meta)]);
    },
    async patch(key, patch): Promise<PatchResult> {
      await ready();
      const update = patchStatement(table, key, patch);
      // The UPDATE and the read of its result share a transaction, so the record returned is this patch's.
      return inTransaction(pool, async (conn) => {
        const updated = (await changedRows(conn, update.text, update.values)) === 1;
        if (!updated && patch.ifVersion === undefined) return { status: 'missing' };
        const [row] = await selectRows(conn, sql.get, [key]);
        const record = row === undefined ? null : decodeMysqlRow(row);
        if (updated) return record ? { status: 'ok', record } : { status: 'missing' };
        return record && record.meta.successor === undefined ? { status: 'conflict' } : { status: 'missing' };
      });
    },
    async destroy(key) {
      await ready();
      // The row lock makes reading the successor and deleting the row one step for every other writer.
      return inTransaction(pool, async (conn) => ({ successor: await deleteLocked(conn, key) }));
    },
    async listByUser(userId) {
      return decodeEntries('mysql', await rows(sql.list, [userId]), jsonColumn);
    },
    async destroyByUser(userId, exceptKey) {
      return write(sql.destroyByUser, [userId, exceptKey ?? null, exceptKey ?? null]);
    },
    async prune() {
      return write(sql.prune, [clock.now()]);
    },
  };

  async function deleteLocked(conn: MysqlQueryable, key: string): Promise<string | null> {
    const [row] = await selectRows(conn, sql.lockSuccessor, [key]);
    if (row === undefined) return null;
    await changedRows(conn, sql.destroy, [key]);
    return successorColumn(row);
  }
}

/** A JSON path naming one top-level member whatever its characters: `$."<key as a JSON string>"`. */
const memberPath = (key: string): string => `$.${JSON.stringify(key)}`;

/**
 * The patch as one UPDATE: JSON_SET for each set member (its value passed as JSON text), then JSON_REMOVE
 * for each deleted one, meta replaced whole; rotated-out rows and version mismatches are left alone.
 */
function patchStatement(
  table: string,
  key: string,
  patch: SessionPatch,
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  let data = 'data';
  const set = Object.entries(patch.set);
  if (set.length > 0) {
    data = `JSON_SET(${data}${", ?, JSON_EXTRACT(?, '$')".repeat(set.length)})`;
    for (const [member, value] of set) values.push(memberPath(member), JSON.stringify(value));
  }
  if (patch.delete.length > 0) {
    data = `JSON_REMOVE(${data}${', ?'.repeat(patch.delete.length)})`;
    values.push(...patch.delete.map(memberPath));
  }
  const version = patch.ifVersion ?? null;
  values.push(...metaColumns(patch.meta), key, version, version);
  const text = `UPDATE ${table} SET data = ${data}, meta = ?, user_id = ?, expires_at = ?, version = version + 1
WHERE \`key\` = ? AND NOT JSON_CONTAINS_PATH(meta, 'one', '$.successor') AND (? IS NULL OR version = ?)`;
  return { text, values };
}

/** A row of (version, data, meta); BIGINT may arrive as a number, a bigint or a string by driver settings. */
function decodeMysqlRow(row: unknown): SessionRecord | null {
  return reported('mysql', decodeRow(row, jsonColumn));
}
