/**
 * The tests the SQL stores share (PostgreSQL: src/stores/postgres.test.ts; MySQL and MariaDB:
 * test/stores/mysql-store-suite.ts), the conformance suite included: the table option, the migration,
 * the columns derived from meta, rows that do not decode, an unreachable database. Each store's own file
 * adds what only it does (the statements it sends, driver quirks) in `extra`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from '../../src/core/clock.js';
import { randomString } from '../../src/core/crypto.js';
import { SessionConfigError } from '../../src/errors.js';
import type { SessionEntry, SessionStore } from '../../src/stores/types.js';
import { createFakeClock } from '../../src/testing/fake-clock.js';
import { randomKey, randomUserId, sampleMeta, sampleRecord } from '../../src/testing/records.js';
import { describeStoreConformance } from '../../src/testing/store-conformance.js';
import { collectEvents } from '../fixtures/events.js';
import { assertBadMetasRefused, assertLongMetaRead } from './bad-records.js';

/** A SQL store as the suite uses it. */
export interface SqlStore extends SessionStore {
  listByUser(userId: string): Promise<SessionEntry[]>;
  migrate(): Promise<void>;
}

/** Options the suite passes to the store factory. */
export interface SqlStoreOptions {
  table?: string;
  clock?: Clock;
  createTable?: boolean;
}

/** What the suite needs from one database and driver. */
export interface SqlHarness<Db> {
  /** The `describe` title. */
  title: string;
  /** The conformance suite's name. */
  conformanceName: string;
  /** The store's `kind`, as its decode-error events name it. */
  kind: string;
  skip: false | string;
  db: Db;
  create(db: Db, options?: SqlStoreOptions): SqlStore;
  /** The rows of one statement, its placeholders written `?` whatever the dialect. */
  rows(sql: string, values?: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** The `key` column as the dialect quotes it. */
  keyColumn: string;
  /** Table names the option check refuses beyond the common ones (the dialect's quote, its length limit). */
  invalidTables: string[];
  /** A table qualified by a schema or database of the test server; `cleanup` drops what it made. */
  qualified(table: string): Promise<{ name: string; cleanup(): Promise<void> }>;
  /** The table's indexes, each described the dialect's way, sorted; `expectedIndexes` is what migrate makes. */
  indexes(table: string): Promise<string[]>;
  expectedIndexes: string[];
  /** The pool wrapped to record the first word of every statement sent (on it and its connections). */
  counting(): { db: Db; statements: string[] };
  /** The statements each operation sends (get must be one SELECT: one round trip). */
  statements: Record<'patch' | 'missing' | 'conflict' | 'destroy', string[]>;
  /** The error code of a query on a table that does not exist. */
  missingTableCode: string;
  /** A connection to a port where nothing listens, and the error code its queries reject with (if stable). */
  unreachable(): Promise<{ db: Db; code?: string; close(): Promise<void> }>;
}

/** A table name nobody else uses (lower case: PostgreSQL folds unquoted names); the test drops it. */
export const freshTable = (): string =>
  `sk_test_${randomString(8)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '_')}`;

/** Registers the shared SQL store tests, then the store's own (`extra`), in one `describe`. */
export function describeSqlStore<Db>(harness: SqlHarness<Db>, extra: () => void = () => {}): void {
  describe(harness.title, { skip: harness.skip }, () => {
    if (harness.skip) return;
    const { db } = harness;
    const drop = async (table: string) => void (await harness.rows(`DROP TABLE IF EXISTS ${table}`));
    /** A test body on a store on a fresh table (dropped afterwards). */
    const onTable =
      (
        body: (store: SqlStore, table: string, clock: Clock) => Promise<void>,
        options: SqlStoreOptions = {},
      ) =>
      async () => {
        const table = freshTable();
        const clock = createFakeClock();
        try {
          await body(harness.create(db, { table, clock, ...options }), table, clock);
        } finally {
          await drop(table);
        }
      };

    describeStoreConformance(harness.conformanceName, async (clock) => {
      const table = freshTable();
      return { store: harness.create(db, { table, clock }), clock, cleanup: () => drop(table) };
    });

    describe('options', () => {
      it('throws SessionConfigError("table") for a name that is not a plain identifier', () => {
        for (const table of ['', 'a;b', 'a.b.c', '1abc', 'a b', 'a.', ...harness.invalidTables]) {
          assert.throws(
            () => harness.create(db, { table }),
            (error) => error instanceof SessionConfigError && error.option === 'table',
            table,
          );
        }
      });

      it('throws SessionConfigError for a client without query() and a non-boolean createTable', () => {
        // @ts-expect-error a JavaScript caller may pass anything
        assert.throws(() => harness.create({}), SessionConfigError);
        // @ts-expect-error a JavaScript caller may pass anything
        assert.throws(() => harness.create(db, { createTable: 'yes' }), /createTable/);
      });

      it('uses a qualified table', async () => {
        const { name, cleanup } = await harness.qualified(freshTable());
        try {
          const clock = createFakeClock();
          const store = harness.create(db, { table: name, clock });
          const key = randomKey();
          const record = sampleRecord(clock, { a: 1 });
          await store.set(key, record);
          assert.deepEqual(await store.get(key), record);
          const [row] = await harness.rows(`SELECT count(*) AS n FROM ${name}`);
          assert.equal(Number(row?.n), 1);
        } finally {
          await cleanup();
        }
      });
    });

    describe('migrate', () => {
      it('creates the table and its indexes once, when many stores start at the same moment', async () => {
        const table = freshTable();
        try {
          const stores = Array.from({ length: 8 }, () => harness.create(db, { table }));
          assert.deepEqual(
            await Promise.all(stores.map((store) => store.get(randomKey()))),
            Array(8).fill(null),
          );
          assert.deepEqual(await harness.indexes(table), harness.expectedIndexes);
        } finally {
          await drop(table);
        }
      });

      it(
        'with createTable: false runs no DDL until migrate() is called',
        onTable(
          async (store) => {
            await assert.rejects(store.get(randomKey()), { code: harness.missingTableCode });
            await store.migrate();
            await store.migrate();
            assert.equal(await store.get(randomKey()), null);
          },
          { createTable: false },
        ),
      );
    });

    it('get sends one SELECT; patch and destroy send the statements of the dialect', async () => {
      const table = freshTable();
      const { db: counted, statements } = harness.counting();
      const sent = async (operation: Promise<unknown>) => {
        statements.length = 0;
        await operation;
        return [...statements];
      };
      try {
        const clock = createFakeClock();
        const store = harness.create(counted, { table, clock });
        const key = randomKey();
        await store.set(key, sampleRecord(clock, { a: 1 }));
        assert.deepEqual(await sent(store.get(key)), ['SELECT']);
        const patch = { set: { b: 2 }, delete: ['a'], meta: sampleMeta(clock) };
        assert.deepEqual(await sent(store.patch(key, patch)), harness.statements.patch);
        assert.deepEqual(await sent(store.patch(randomKey(), patch)), harness.statements.missing);
        const stale = { ...patch, ifVersion: 1 };
        assert.deepEqual(await sent(store.patch(key, stale)), harness.statements.conflict);
        assert.deepEqual(await store.patch(key, stale), { status: 'conflict' });
        assert.deepEqual(await sent(store.destroy(key)), harness.statements.destroy);
      } finally {
        await drop(table);
      }
    });

    it(
      'keeps user_id and expires_at in step with meta',
      onTable(async (store, table, clock) => {
        const key = randomKey();
        await store.set(key, sampleRecord(clock, {}, { userId: randomUserId() }));
        const meta = sampleMeta(clock, { expiresAt: clock.now() + 5_000 });
        await store.patch(key, { set: {}, delete: [], meta });
        const rows = await harness.rows(
          `SELECT user_id, expires_at FROM ${table} WHERE ${harness.keyColumn} = ?`,
          [key],
        );
        assert.deepEqual(
          rows.map((row) => ({ ...row, expires_at: Number(row.expires_at) })),
          [{ user_id: null, expires_at: meta.expiresAt }],
        );
      }),
    );

    describe('bad rows', () => {
      it(
        'reads a row that does not decode as null and publishes decode-error without the key',
        onTable(async (store, table, clock) => {
          const [badMeta, badData] = [randomKey(), randomKey()];
          const userId = randomUserId();
          await store.set(badMeta, sampleRecord(clock, { a: 1 }, { userId }));
          await store.set(badData, sampleRecord(clock, { a: 1 }));
          const update = `UPDATE ${table} SET %s WHERE ${harness.keyColumn} = ?`;
          await harness.rows(update.replace('%s', `meta = '"not meta"'`), [badMeta]);
          await harness.rows(update.replace('%s', `data = '[1, 2]'`), [badData]);
          const events = await collectEvents(async () => {
            assert.equal(await store.get(badMeta), null);
            assert.equal(await store.get(badData), null);
            assert.deepEqual(await store.listByUser(userId), []);
          });
          assert.deepEqual(events, Array(3).fill({ type: 'decode-error', store: harness.kind }));
          for (const key of [badMeta, badData]) assert.equal(JSON.stringify(events).includes(key), false);
        }),
      );

      it(
        'reads and patches a row whose meta is in the long layout written before',
        onTable(async (store, table, clock) => {
          await assertLongMetaRead(store, clock, async (key, meta) => {
            await harness.rows(`UPDATE ${table} SET meta = ? WHERE ${harness.keyColumn} = ?`, [meta, key]);
          });
        }),
      );

      it(
        'reads a row whose meta breaks the strict check as null',
        onTable(async (store, table, clock) => {
          await assertBadMetasRefused(store, harness.kind, clock, async (key, meta) => {
            await harness.rows(`UPDATE ${table} SET meta = ? WHERE ${harness.keyColumn} = ?`, [meta, key]);
          });
        }),
      );
    });

    it('does not throw at creation on an unreachable database; every operation rejects', async () => {
      const down = await harness.unreachable();
      const rejection = (error: unknown) =>
        down.code === undefined || (error instanceof Error && 'code' in error && error.code === down.code);
      try {
        const store = harness.create(down.db, { table: freshTable() });
        await assert.rejects(store.get(randomKey()), rejection);
        await assert.rejects(
          store.patch(randomKey(), { set: {}, delete: [], meta: sampleMeta(createFakeClock()) }),
          rejection,
        );
        await assert.rejects(store.destroy(randomKey()), rejection);
      } finally {
        await down.close();
      }
    });

    extra();
  });
}
