import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { serviceSkip, services } from '../../tools/services.js';
import { randomString } from '../core/crypto.js';
import { DIAGNOSTICS_CHANNEL } from '../core/diagnostics.js';
import { SessionConfigError } from '../errors.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { randomKey, randomUserId, sampleMeta, sampleRecord } from '../testing/records.js';
import { describeStoreConformance } from '../testing/store-conformance.js';
import { createPostgresStore, type PgLike, type PgPreparedQuery } from './postgres.js';

const skip = await serviceSkip('PostgreSQL', services.postgres.port, services.postgres.host);
const pool = new pg.Pool({ ...services.postgres, max: 10 });
after(() => pool.end());

/** A table name nobody else uses; the test drops it. */
const freshTable = () =>
  `sk_test_${randomString(6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '_')}`;
const drop = (table: string) => pool.query(`DROP TABLE IF EXISTS ${table}`);

const isEvent = (value: unknown): value is { type: string } =>
  typeof value === 'object' && value !== null && 'type' in value;

/** The real pool, counting the statements sent through it (session queries as named prepared statements). */
function countingPool(): PgLike & { statements: string[] } {
  const statements: string[] = [];
  const query = (query: string | PgPreparedQuery) => {
    const text = typeof query === 'string' ? query : query.text;
    statements.push(text.trimStart().split(/\s/)[0] ?? '');
    return typeof query === 'string' ? pool.query(query) : pool.query(query);
  };
  return { statements, query };
}

describe('createPostgresStore', { skip }, () => {
  describeStoreConformance(
    'postgres',
    async (clock) => {
      const table = freshTable();
      return {
        store: createPostgresStore(pool, { table, clock }),
        clock,
        cleanup: async () => void (await drop(table)),
      };
    },
    { skip },
  );

  describe('options', () => {
    it('throws SessionConfigError("table") for a name that is not a plain identifier', () => {
      for (const table of ['', 'a;b', 'a.b.c', '1abc', 'a b', 'x"y', 'a.', 'x'.repeat(64)]) {
        assert.throws(
          () => createPostgresStore(pool, { table }),
          (error) => error instanceof SessionConfigError && error.option === 'table',
          table,
        );
      }
    });

    it('throws SessionConfigError for a client without query() and a non-boolean createTable', () => {
      // @ts-expect-error a JavaScript caller may pass anything
      assert.throws(() => createPostgresStore({}), SessionConfigError);
      // @ts-expect-error a JavaScript caller may pass anything
      assert.throws(() => createPostgresStore(pool, { createTable: 'yes' }), /createTable/);
    });

    it('uses a schema-qualified table', async () => {
      const schema = freshTable();
      await pool.query(`CREATE SCHEMA ${schema}`);
      try {
        const clock = createFakeClock();
        const store = createPostgresStore(pool, { table: `${schema}.sessions`, clock });
        const record = sampleRecord(clock, { a: 1 });
        const key = randomKey();
        await store.set(key, record);
        assert.deepEqual(await store.get(key), record);
        const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.sessions`);
        assert.equal(rows[0].n, 1);
      } finally {
        await pool.query(`DROP SCHEMA ${schema} CASCADE`);
      }
    });
  });

  describe('migrate', () => {
    it('creates the table and its indexes once, when many stores start at the same moment', async () => {
      const table = freshTable();
      try {
        const stores = Array.from({ length: 8 }, () => createPostgresStore(pool, { table }));
        assert.deepEqual(
          await Promise.all(stores.map((store) => store.get(randomKey()))),
          Array(8).fill(null),
        );
        const { rows } = await pool.query('SELECT indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY 1', [
          table,
        ]);
        assert.deepEqual(rows.map((row) => row.indexdef.replace(/^.* USING /, '')).toSorted(), [
          'btree (expires_at)',
          'btree (key)',
          'btree (user_id)',
        ]);
      } finally {
        await drop(table);
      }
    });

    it('with createTable: false runs no DDL until migrate() is called', async () => {
      const table = freshTable();
      try {
        const store = createPostgresStore(pool, { table, createTable: false });
        await assert.rejects(store.get(randomKey()), { code: '42P01' });
        await store.migrate();
        await store.migrate();
        assert.equal(await store.get(randomKey()), null);
      } finally {
        await drop(table);
      }
    });
  });

  describe('round trips', () => {
    it('get sends one SELECT; patch sends one UPDATE, and a second query only when it touches no row', async () => {
      const table = freshTable();
      const db = countingPool();
      try {
        const clock = createFakeClock();
        const store = createPostgresStore(db, { table, clock });
        const key = randomKey();
        await store.set(key, sampleRecord(clock, { a: 1 }));
        db.statements.length = 0;
        await store.get(key);
        assert.deepEqual(db.statements, ['SELECT']);
        db.statements.length = 0;
        assert.equal(
          (await store.patch(key, { set: { b: 2 }, delete: ['a'], meta: sampleMeta(clock) })).status,
          'ok',
        );
        assert.deepEqual(db.statements, ['UPDATE']);
        db.statements.length = 0;
        const stale = { set: { c: 3 }, delete: [], meta: sampleMeta(clock), ifVersion: 1 };
        assert.deepEqual(await store.patch(key, stale), { status: 'conflict' });
        assert.deepEqual(db.statements, ['UPDATE', 'SELECT']);
      } finally {
        await drop(table);
      }
    });

    it('runs session queries as named prepared statements, one name per table', async () => {
      const tables = [freshTable(), freshTable()];
      const client = new pg.Client(services.postgres);
      await client.connect();
      try {
        const clock = createFakeClock();
        for (const table of tables) {
          const store = createPostgresStore(client, { table, clock });
          const key = randomKey();
          await store.set(key, sampleRecord(clock, { a: 1 }));
          await store.get(key);
          await store.get(key);
        }
        const { rows } = await client.query(
          "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'sessionkit\\_%' AND statement LIKE 'SELECT%'",
        );
        const selects = rows.filter((row) => tables.some((table) => String(row.statement).includes(table)));
        assert.equal(selects.length, 2, 'one prepared SELECT per table on this connection');
        assert.notEqual(selects[0]?.name, selects[1]?.name);
      } finally {
        await client.end();
        for (const table of tables) await drop(table);
      }
    });

    it('keeps user_id and expires_at in step with meta', async () => {
      const table = freshTable();
      try {
        const clock = createFakeClock();
        const store = createPostgresStore(pool, { table, clock });
        const key = randomKey();
        const userId = randomUserId();
        await store.set(key, sampleRecord(clock, {}, { userId }));
        const meta = sampleMeta(clock, { expiresAt: clock.now() + 5_000 });
        await store.patch(key, { set: {}, delete: [], meta });
        const { rows } = await pool.query(`SELECT user_id, expires_at FROM ${table} WHERE key = $1`, [key]);
        assert.deepEqual(rows, [{ user_id: null, expires_at: String(meta.expiresAt) }]);
      } finally {
        await drop(table);
      }
    });
  });

  describe('bad rows and values', () => {
    it('reads a row that does not decode as null and publishes decode-error without the key', async () => {
      const table = freshTable();
      const events: unknown[] = [];
      const listener = (event: unknown) => events.push(event);
      subscribe(DIAGNOSTICS_CHANNEL, listener);
      try {
        const clock = createFakeClock();
        const store = createPostgresStore(pool, { table, clock });
        const [badMeta, badData] = [randomKey(), randomKey()];
        await store.set(badMeta, sampleRecord(clock, { a: 1 }));
        await store.set(badData, sampleRecord(clock, { a: 1 }));
        await pool.query(`UPDATE ${table} SET meta = '"not meta"' WHERE key = $1`, [badMeta]);
        await pool.query(`UPDATE ${table} SET data = '[1, 2]' WHERE key = $1`, [badData]);
        assert.equal(await store.get(badMeta), null);
        assert.equal(await store.get(badData), null);
        const decodeErrors = events.filter((event) => isEvent(event) && event.type === 'decode-error');
        assert.deepEqual(decodeErrors, [
          { type: 'decode-error', store: 'postgres' },
          { type: 'decode-error', store: 'postgres' },
        ]);
      } finally {
        unsubscribe(DIAGNOSTICS_CHANNEL, listener);
        await drop(table);
      }
    });

    // jsonb cannot hold U+0000. The core refuses it at session.set() (ERR_SESSION_VALUE); a record that
    // reaches the store anyway is refused by PostgreSQL, and nothing is written.
    it('rejects a value holding U+0000 and leaves the stored record unchanged', async () => {
      const table = freshTable();
      try {
        const clock = createFakeClock();
        const store = createPostgresStore(pool, { table, clock });
        const key = randomKey();
        const record = sampleRecord(clock, { a: 'clean' });
        await store.set(key, record);
        await assert.rejects(store.set(key, sampleRecord(clock, { a: 'nul\u0000' }, {}, 2)), {
          code: '22P05',
        });
        await assert.rejects(
          store.patch(key, { set: { b: { deep: '\u0000' } }, delete: [], meta: sampleMeta(clock) }),
          { code: '22P05' },
        );
        await assert.rejects(store.set(randomKey(), sampleRecord(clock, { 'nul\u0000key': 1 })), {
          code: '22P05',
        });
        assert.deepEqual(await store.get(key), record);
      } finally {
        await drop(table);
      }
    });
  });

  describe('an unreachable database', () => {
    let down: pg.Pool;
    before(async () => {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const address = probe.address();
      assert.ok(address && typeof address === 'object');
      await new Promise((resolve) => probe.close(resolve));
      down = new pg.Pool({ ...services.postgres, port: address.port, connectionTimeoutMillis: 2000 });
    });
    after(() => down.end());

    it('does not throw at creation; every operation rejects with the driver error', async () => {
      const store = createPostgresStore(down, { table: freshTable() });
      await assert.rejects(store.get(randomKey()), { code: 'ECONNREFUSED' });
      await assert.rejects(store.get(randomKey()), { code: 'ECONNREFUSED' });
      await assert.rejects(store.destroy(randomKey()), { code: 'ECONNREFUSED' });
    });
  });
});
