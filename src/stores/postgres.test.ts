import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import pg from 'pg';
import { describeSqlStore, freshTable } from '../../test/stores/sql-store-suite.js';
import { serviceSkip, services, sparePort } from '../../tools/services.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { randomKey, sampleMeta, sampleRecord } from '../testing/records.js';
import { describeStoreConformance } from '../testing/store-conformance.js';
import { createPostgresStore, type PgLike, type PgPreparedQuery } from './postgres.js';

const skip = await serviceSkip('PostgreSQL', services.postgres.port, services.postgres.host);
const pool = new pg.Pool({ ...services.postgres, max: 10 });
after(() => pool.end());
const drop = (table: string) => pool.query(`DROP TABLE IF EXISTS ${table}`);

/** Creates `table` as the store's migration did before it wrote json (jsonb columns, a full user_id index). */
const createJsonbTable = (table: string) =>
  pool.query(`CREATE TABLE ${table} (key text PRIMARY KEY, version bigint NOT NULL, data jsonb NOT NULL,
  meta jsonb NOT NULL, user_id text, expires_at bigint NOT NULL);
CREATE INDEX ${table}_expires_at_idx ON ${table} (expires_at); CREATE INDEX ${table}_user_id_idx ON ${table} (user_id);`);

/** The real pool, counting the statements sent through it (session queries as named prepared statements). */
function countingPool(): { db: PgLike; statements: string[] } {
  const statements: string[] = [];
  const query = (query: string | PgPreparedQuery) => {
    const text = typeof query === 'string' ? query : query.text;
    statements.push(text.trimStart().split(/\s/)[0] ?? '');
    return typeof query === 'string' ? pool.query(query) : pool.query(query);
  };
  return { db: { query }, statements };
}

describeSqlStore<PgLike>(
  {
    title: 'createPostgresStore',
    conformanceName: 'postgres',
    kind: 'postgres',
    skip,
    db: pool,
    create: createPostgresStore,
    async rows(sql, values = []) {
      let n = 0;
      return (
        await pool.query(
          sql.replace(/\?/g, () => `$${++n}`),
          values,
        )
      ).rows;
    },
    keyColumn: 'key',
    invalidTables: ['x"y', 'x'.repeat(64)],
    async qualified(schema) {
      await pool.query(`CREATE SCHEMA ${schema}`);
      return {
        name: `${schema}.sessions`,
        cleanup: async () => void (await pool.query(`DROP SCHEMA ${schema} CASCADE`)),
      };
    },
    async indexes(table) {
      const { rows } = await pool.query('SELECT indexdef FROM pg_indexes WHERE tablename = $1', [table]);
      return rows.map((row) => String(row.indexdef).replace(/^.* USING /, '')).toSorted();
    },
    expectedIndexes: ['btree (expires_at)', 'btree (key)', 'btree (user_id) WHERE (user_id IS NOT NULL)'],
    counting: countingPool,
    // A patch that touches no row costs a second query only with ifVersion: it tells a conflict from a miss.
    statements: {
      patch: ['UPDATE'],
      missing: ['UPDATE'],
      conflict: ['UPDATE', 'SELECT'],
      destroy: ['DELETE'],
    },
    missingTableCode: '42P01',
    async unreachable() {
      const down = new pg.Pool({
        ...services.postgres,
        port: await sparePort(),
        connectionTimeoutMillis: 2000,
      });
      return { db: down, code: 'ECONNREFUSED', close: () => down.end() };
    },
  },
  () => {
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

    describeStoreConformance(
      'postgres (a jsonb table created before)',
      async (clock) => {
        const table = freshTable();
        await createJsonbTable(table);
        return {
          store: createPostgresStore(pool, { table, clock }),
          clock,
          cleanup: async () => void (await drop(table)),
        };
      },
      { skip },
    );

    it('keeps writing jsonb to a jsonb table and json (the text as written) to a table it creates', async () => {
      const [created, before] = [freshTable(), freshTable()];
      try {
        await createJsonbTable(before);
        const clock = createFakeClock();
        for (const table of [created, before]) {
          const store = createPostgresStore(pool, { table, clock });
          await store.set(randomKey(), sampleRecord(clock, { a: 1, list: [1, 2] }));
        }
        const types = async (table: string) =>
          (
            await pool.query(
              `SELECT pg_typeof(data)::text AS data, pg_typeof(meta)::text AS meta, data::text AS text FROM ${table}`,
            )
          ).rows;
        assert.deepEqual(await types(created), [
          { data: 'json', meta: 'json', text: '{"a":1,"list":[1,2]}' },
        ]);
        assert.deepEqual(await types(before), [
          { data: 'jsonb', meta: 'jsonb', text: '{"a": 1, "list": [1, 2]}' },
        ]);
      } finally {
        await drop(created);
        await drop(before);
      }
    });

    // jsonb cannot hold U+0000. The core refuses it at session.set() (ERR_SESSION_VALUE); a record that
    // reaches the store anyway is refused by PostgreSQL, and nothing is written, in json and jsonb tables.
    it('rejects a value holding U+0000 and leaves the stored record unchanged', async () => {
      const [created, before] = [freshTable(), freshTable()];
      try {
        await createJsonbTable(before);
        for (const table of [created, before]) {
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
        }
      } finally {
        await drop(created);
        await drop(before);
      }
    });
  },
);
