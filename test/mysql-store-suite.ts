/**
 * The MySQL store suite, run once per driver by src/stores/mysql.test.ts (mysql2) and
 * src/stores/mysql.mariadb.test.ts (mariadb), each file with its own time budget.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, describe, it } from 'node:test';
import { randomString } from '../src/core/crypto.js';
import { DIAGNOSTICS_CHANNEL } from '../src/core/diagnostics.js';
import { SessionConfigError } from '../src/errors.js';
import { createMysqlStore, type MysqlLike } from '../src/stores/mysql.js';
import { createFakeClock } from '../src/testing/fake-clock.js';
import { randomKey, randomUserId, sampleMeta, sampleRecord } from '../src/testing/records.js';
import { describeStoreConformance } from '../src/testing/store-conformance.js';
import { services, sparePort } from '../tools/services.js';

/** A pool the suite can close. */
export type MysqlPool = MysqlLike & { end(): Promise<void> };

/** A table name nobody else uses; the test drops it. */
const freshTable = () => `sk_test_${randomString(8).replace(/[^A-Za-z0-9]/g, '_')}`;

const isEvent = (value: unknown): value is { type: string } =>
  typeof value === 'object' && value !== null && 'type' in value;

/** The first word of each statement sent through `pool`, on the pool and on the connections it lends. */
function counting(pool: MysqlLike): MysqlLike & { statements: string[] } {
  const statements: string[] = [];
  const word = (sql: string) => statements.push(sql.trimStart().split(/\s/)[0] ?? '');
  return {
    statements,
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
  describe(`createMysqlStore with ${driver}`, { skip }, () => {
    if (skip) return;
    const pool = connect();
    after(() => pool.end());
    const drop = (table: string) => pool.query(`DROP TABLE IF EXISTS ${table}`);

    describeStoreConformance(`mysql (${driver})`, async (clock) => {
      const table = freshTable();
      return {
        store: createMysqlStore(pool, { table, clock }),
        clock,
        cleanup: async () => void (await drop(table)),
      };
    });

    describe('options', () => {
      it('throws SessionConfigError("table") for a name that is not a plain identifier', () => {
        for (const table of ['', 'a;b', 'a.b.c', '1abc', 'a b', 'x`y', 'a.', 'x'.repeat(65)]) {
          assert.throws(
            () => createMysqlStore(pool, { table }),
            (error) => error instanceof SessionConfigError && error.option === 'table',
            table,
          );
        }
      });

      it('throws SessionConfigError for a pool without query()/getConnection() and a non-boolean createTable', () => {
        // @ts-expect-error a JavaScript caller may pass anything
        assert.throws(() => createMysqlStore({ query: pool.query }), /pool/);
        // @ts-expect-error a JavaScript caller may pass anything
        assert.throws(() => createMysqlStore(pool, { createTable: 'yes' }), /createTable/);
      });

      it('uses a database-qualified table', async () => {
        const table = freshTable();
        try {
          const clock = createFakeClock();
          const store = createMysqlStore(pool, { table: `${services.mysql.database}.${table}`, clock });
          const key = randomKey();
          const record = sampleRecord(clock, { a: 1 });
          await store.set(key, record);
          assert.deepEqual(await store.get(key), record);
        } finally {
          await drop(table);
        }
      });
    });

    describe('migrate', () => {
      it('creates the table and its indexes once, when many stores start at the same moment', async () => {
        const table = freshTable();
        try {
          const stores = Array.from({ length: 8 }, () => createMysqlStore(pool, { table }));
          assert.deepEqual(
            await Promise.all(stores.map((store) => store.get(randomKey()))),
            Array(8).fill(null),
          );
          const indexes = await mysql2Rows(
            pool,
            `SELECT DISTINCT index_name AS name, column_name AS col FROM information_schema.statistics
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY 1`,
            [table],
          );
          assert.deepEqual(indexes, [
            { name: 'expires_at_idx', col: 'expires_at' },
            { name: 'PRIMARY', col: 'key' },
            { name: 'user_id_idx', col: 'user_id' },
          ]);
        } finally {
          await drop(table);
        }
      });

      it('with createTable: false runs no DDL until migrate() is called', async () => {
        const table = freshTable();
        try {
          const store = createMysqlStore(pool, { table, createTable: false });
          await assert.rejects(store.get(randomKey()), { code: 'ER_NO_SUCH_TABLE' });
          await store.migrate();
          await store.migrate();
          assert.equal(await store.get(randomKey()), null);
        } finally {
          await drop(table);
        }
      });
    });

    describe('statements', () => {
      it('get sends one SELECT; patch one UPDATE and the read of its result in one transaction', async () => {
        const table = freshTable();
        const db = counting(pool);
        try {
          const clock = createFakeClock();
          const store = createMysqlStore(db, { table, clock });
          const key = randomKey();
          await store.set(key, sampleRecord(clock, { a: 1 }));
          db.statements.length = 0;
          await store.get(key);
          assert.deepEqual(db.statements, ['SELECT']);
          db.statements.length = 0;
          const patch = { set: { b: 2 }, delete: ['a'], meta: sampleMeta(clock) };
          assert.equal((await store.patch(key, patch)).status, 'ok');
          assert.deepEqual(db.statements, ['START', 'UPDATE', 'SELECT', 'COMMIT']);
          db.statements.length = 0;
          assert.deepEqual(await store.patch(randomKey(), patch), { status: 'missing' });
          assert.deepEqual(db.statements, ['START', 'UPDATE', 'COMMIT']);
          db.statements.length = 0;
          assert.deepEqual(await store.destroy(key), { successor: null });
          assert.deepEqual(db.statements, ['START', 'SELECT', 'DELETE', 'COMMIT']);
        } finally {
          await drop(table);
        }
      });

      it('keeps user_id and expires_at in step with meta', async () => {
        const table = freshTable();
        try {
          const clock = createFakeClock();
          const store = createMysqlStore(pool, { table, clock });
          const key = randomKey();
          await store.set(key, sampleRecord(clock, {}, { userId: randomUserId() }));
          const meta = sampleMeta(clock, { expiresAt: clock.now() + 5_000 });
          await store.patch(key, { set: {}, delete: [], meta });
          const rows = await mysql2Rows(pool, `SELECT user_id, expires_at FROM ${table} WHERE \`key\` = ?`, [
            key,
          ]);
          assert.deepEqual(
            rows.map((row) => ({ ...row, expires_at: Number(row.expires_at) })),
            [{ user_id: null, expires_at: meta.expiresAt }],
          );
        } finally {
          await drop(table);
        }
      });
    });

    describe('destroy', () => {
      it('resolves to the successor key of the removed record, and null once it is gone', async () => {
        const table = freshTable();
        try {
          const clock = createFakeClock();
          const store = createMysqlStore(pool, { table, clock });
          const [key, next] = [randomKey(), randomKey()];
          const successor = { key: next, sealed: 'c2VhbGVk', graceUntil: clock.now() + 60_000 };
          await store.set(key, sampleRecord(clock, { a: 1 }, { successor }));
          assert.deepEqual(await store.destroy(key), { successor: next });
          assert.deepEqual(await store.destroy(key), { successor: null });
          assert.equal(await store.get(key), null);
        } finally {
          await drop(table);
        }
      });

      // Linearizable: a destroy either runs before the link is written (the linking patch then finds the
      // row missing) or after it (the destroy then reports the successor). Never neither.
      it('racing the patch that links a successor, either reports it or makes the patch miss', async () => {
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
    });

    describe('bad rows', () => {
      it('reads a row that does not decode as null and publishes decode-error without the key', async () => {
        const table = freshTable();
        const events: unknown[] = [];
        const listener = (event: unknown) => events.push(event);
        subscribe(DIAGNOSTICS_CHANNEL, listener);
        try {
          const clock = createFakeClock();
          const store = createMysqlStore(pool, { table, clock });
          const [badMeta, badData] = [randomKey(), randomKey()];
          const userId = randomUserId();
          await store.set(badMeta, sampleRecord(clock, { a: 1 }, { userId }));
          await store.set(badData, sampleRecord(clock, { a: 1 }));
          await pool.query(`UPDATE ${table} SET meta = '"not meta"' WHERE \`key\` = ?`, [badMeta]);
          await pool.query(`UPDATE ${table} SET data = '[1, 2]' WHERE \`key\` = ?`, [badData]);
          assert.equal(await store.get(badMeta), null);
          assert.equal(await store.get(badData), null);
          assert.deepEqual(await store.listByUser(userId), []);
          const decodeErrors = events.filter((event) => isEvent(event) && event.type === 'decode-error');
          assert.deepEqual(decodeErrors, Array(3).fill({ type: 'decode-error', store: 'mysql' }));
        } finally {
          unsubscribe(DIAGNOSTICS_CHANNEL, listener);
          await drop(table);
        }
      });
    });

    describe('an unreachable database', () => {
      it('does not throw at creation; every operation rejects with the driver error', async () => {
        const down = connect(await sparePort());
        try {
          const store = createMysqlStore(down, { table: freshTable() });
          await assert.rejects(store.get(randomKey()));
          await assert.rejects(
            store.patch(randomKey(), { set: {}, delete: [], meta: sampleMeta(createFakeClock()) }),
          );
          await assert.rejects(store.destroy(randomKey()));
        } finally {
          await down.end();
        }
      });
    });
  });
}

/** Rows of a SELECT through either driver (mysql2 wraps them with the fields). */
async function mysql2Rows(
  pool: MysqlLike,
  sql: string,
  values: unknown[],
): Promise<Array<Record<string, unknown>>> {
  const raw = await pool.query(sql, values);
  const rows = Array.isArray(raw) && Array.isArray(raw[0]) ? raw[0] : raw;
  assert.ok(Array.isArray(rows));
  return rows.map((row) => ({ ...row }));
}
