/**
 * Type tests (checked by tsc, never run): better-sqlite3's Database fits `SqliteLike`, so users pass
 * their own database to `createSqliteStore`.
 */
import type Database from 'better-sqlite3';
import { createSqliteStore, type SqliteLike, type SqliteStatementLike, type SqliteStore } from './sqlite.js';

declare const db: Database.Database;

export const database: SqliteLike = db;
export const statement: SqliteStatementLike = db.prepare('SELECT 1');
export const fromDatabase: SqliteStore = createSqliteStore(db, {
  table: 'sessions',
  pruneIntervalSeconds: 0,
});
export const fromPath: SqliteStore = createSqliteStore('./data/sessions.db');

// @ts-expect-error a database needs prepare()
export const noPrepare: SqliteLike = { exec: () => undefined };

// @ts-expect-error a statement must report how many rows it changed
export const noChanges: SqliteStatementLike = { run: () => undefined, get: () => undefined, all: () => [] };

// @ts-expect-error the interval is a number of seconds
createSqliteStore(db, { pruneIntervalSeconds: '300' });
