/**
 * The MySQL store suite, run once per driver by src/stores/mysql.test.ts (mysql2) and
 * src/stores/mysql.mariadb.test.ts (mariadb), each file with its own time budget: the shared SQL store
 * tests (sql-store-suite.ts) and what only this store does.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createMysqlStore, type MysqlLike } from '../../src/stores/mysql.js';
import { createFakeClock } from '../../src/testing/fake-clock.js';
import { randomKey, sampleMeta, sampleRecord } from '../../src/testing/records.js';
import { services, sparePort } from '../../tools/services.js';
import { describeSqlStore, freshTable } from './sql-store-suite.js';

/** A pool the suite can close. */
export type MysqlPool = MysqlLike & { end(): Promise<void> };

/** The first word of each statement sent through `pool`, on the pool and on the connections it lends. */
function counting(pool: MysqlLike): { db: MysqlLike; statements: string[] } {
  const statements: string[] = [];
  const word = (sql: string) => statements.push(sql.trimStart().split(/\s/)[0] ?? '');
  const db: MysqlLike = {
    query(sql, values) {
      word(sql);
      return pool.query(sql, values);
    },
    async getConnection() {
      const conn = await pool.getConnection();
      return {
        query(sql, values) {
          word(sql);
          return conn.query(sql, values);
        },
        release: () => conn.release(),
      };
    },
  };
  return { db, statements };
}

/** Rows of a statement through either driver (mysql2 wraps them with the fields; a write answers no rows). */
async function rowsOf(
  pool: MysqlLike,
  sql: string,
  values: unknown[],
): Promise<Array<Record<string, unknown>>> {
  const raw = await pool.query(sql, values);
  const rows = Array.isArray(raw) && Array.isArray(raw[0]) ? raw[0] : raw;
  return Array.isArray(rows) ? rows.map((row) => ({ ...row })) : [];
}

/**
 * The MySQL store's tests (conformance suite included) on one driver's pools; `connect(port)` makes a pool
 * to the test server, or to `port` where nothing listens. With `skip` (from serviceSkip) no pool is made.
 */
export function describeMysqlStore(
  driver: string,
  skip: false | string,
  connect: (port?: number) => MysqlPool,
): void {
  if (skip) {
    describe(`createMysqlStore with ${driver}`, { skip }, () => {});
    return;
  }
  const pool = connect();
  after(() => pool.end());
  const drop = (table: string) => pool.query(`DROP TABLE IF EXISTS ${table}`);

  describeSqlStore<MysqlLike>(
    {
      title: `createMysqlStore with ${driver}`,
      conformanceName: `mysql (${driver})`,
      kind: 'mysql',
      skip,
      db: pool,
      create: createMysqlStore,
      rows: (sql, values = []) => rowsOf(pool, sql, values),
      keyColumn: '`key`',
      invalidTables: ['x`y', 'x'.repeat(65)],
      qualified: async (table) => ({
        name: `${services.mysql.database}.${table}`,
        cleanup: async () => void (await drop(table)),
      }),
      async indexes(table) {
        const rows = await rowsOf(
          pool,
          `SELECT DISTINCT index_name AS name, column_name AS col FROM information_schema.statistics
           WHERE table_schema = DATABASE() AND table_name = ? ORDER BY 1`,
          [table],
        );
        return rows.map((row) => `${row.name} (${row.col})`);
      },
      expectedIndexes: ['expires_at_idx (expires_at)', 'PRIMARY (key)', 'user_id_idx (user_id)'],
      counting: () => counting(pool),
      // The UPDATE and the read of its result (or of the row it missed) share a transaction.
      statements: {
        patch: ['START', 'UPDATE', 'SELECT', 'COMMIT'],
        missing: ['START', 'UPDATE', 'COMMIT'],
        conflict: ['START', 'UPDATE', 'SELECT', 'COMMIT'],
        destroy: ['START', 'SELECT', 'DELETE', 'COMMIT'],
      },
      missingTableCode: 'ER_NO_SUCH_TABLE',
      async unreachable() {
        const down = connect(await sparePort());
        return { db: down, close: () => down.end() };
      },
    },
    () => {
      // Linearizable: a destroy either runs before the link is written (the linking patch then finds the
      // row missing) or after it (the destroy then reports the successor). Never neither. The conformance
      // suite races 20 rounds; row locks across two connections earn this store 40.
      it('destroy racing the patch that links a successor either reports it or makes the patch miss', async () => {
        const table = freshTable();
        try {
          const clock = createFakeClock();
          const store = createMysqlStore(pool, { table, clock });
          for (let round = 0; round < 40; round++) {
            const [key, next] = [randomKey(), randomKey()];
            await store.set(key, sampleRecord(clock, { n: round }));
            const successor = { key: next, sealed: 'c2VhbGVk', graceUntil: clock.now() + 60_000 };
            const link = { set: {}, delete: ['n'], meta: sampleMeta(clock, { successor }), ifVersion: 1 };
            const [linked, destroyed] = await Promise.all([store.patch(key, link), store.destroy(key)]);
            if (linked.status === 'ok') assert.deepEqual(destroyed, { successor: next }, `round ${round}`);
            else assert.deepEqual([linked, destroyed], [{ status: 'missing' }, { successor: null }]);
            assert.equal(await store.get(key), null);
          }
        } finally {
          await drop(table);
        }
      });
    },
  );
}
