/**
 * What the MySQL store needs from a driver, and how it reads both drivers' answers: `mysql2/promise`
 * resolves a query to `[rows | ResultSetHeader, fields]`, `mariadb` to the rows or an OkPacket.
 */
import { parseJson } from './record-codec.js';

/** Something that runs one SQL statement with `?` placeholders. */
export interface MysqlQueryable {
  query(sql: string, values?: unknown[]): Promise<unknown>;
}

/** A connection borrowed from the pool for one transaction. */
export interface MysqlConnectionLike extends MysqlQueryable {
  /** Returns the connection to its pool (mysql2: void, mariadb: a promise). */
  release(): void | Promise<void>;
}

/** A `mysql2/promise` or `mariadb` pool (or anything shaped like them). */
export interface MysqlLike extends MysqlQueryable {
  getConnection(): Promise<MysqlConnectionLike>;
}

interface WriteResult {
  affectedRows: number | bigint;
}

function isWriteResult(value: unknown): value is WriteResult {
  return typeof value === 'object' && value !== null && 'affectedRows' in value;
}

/** The driver's answer without mysql2's `[result, fields]` wrapper. */
function unwrap(raw: unknown): unknown {
  if (Array.isArray(raw) && raw.length === 2 && (Array.isArray(raw[0]) || isWriteResult(raw[0]))) {
    return raw[0];
  }
  return raw;
}

/** The rows of a SELECT (objects keyed by column name); a driver answer of any other shape is an error. */
export async function selectRows(db: MysqlQueryable, sql: string, values: unknown[]): Promise<unknown[]> {
  const result = unwrap(await db.query(sql, values));
  if (!Array.isArray(result)) throw new TypeError('the MySQL driver did not answer a SELECT with rows');
  return result;
}

/** How many rows an INSERT, UPDATE or DELETE changed. */
export async function changedRows(db: MysqlQueryable, sql: string, values: unknown[]): Promise<number> {
  const result = unwrap(await db.query(sql, values));
  if (!isWriteResult(result))
    throw new TypeError('the MySQL driver did not answer a write with affectedRows');
  return Number(result.affectedRows);
}

/**
 * Runs `work` in a transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it
 * rejects (then its error is the one that counts), and the connection always goes back to the pool.
 */
export async function inTransaction<T>(
  db: MysqlLike,
  work: (conn: MysqlQueryable) => Promise<T>,
): Promise<T> {
  const conn = await db.getConnection();
  try {
    await conn.query('START TRANSACTION');
    const result = await work(conn);
    await conn.query('COMMIT');
    return result;
  } catch (error) {
    // A failed ROLLBACK means a broken connection, which the pool discards; the first error is the story.
    await conn.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await conn.release();
  }
}

/** A JSON column as the driver gave it: parsed already (MySQL's JSON type) or text (MariaDB's LONGTEXT). */
export function jsonColumn(value: unknown): unknown {
  return typeof value === 'string' ? parseJson(value) : value;
}
