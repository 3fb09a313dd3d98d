import pg from 'pg';
import { createPostgresStore, type PgLike, type PostgresStore } from './postgres.js';

// Both pg entry points fit the store's structural contract.
const pool: PgLike = new pg.Pool();
const client: PgLike = new pg.Client();
const fromPool: PostgresStore = createPostgresStore(new pg.Pool(), {
  table: 'app.sessions',
  createTable: false,
});
createPostgresStore(new pg.Client());
createPostgresStore({ query: async () => ({ rows: [], rowCount: 0 }) });
void (fromPool.migrate() satisfies Promise<void>);

// @ts-expect-error a client without query() does not fit
createPostgresStore({ execute: async () => [] });

// A client that only takes (text, values) cannot run the named prepared statements.
const textOnly = async (text: string, values?: unknown[]) => ({ rows: [text, values], rowCount: 0 });
// @ts-expect-error query must also accept a { name, text, values } query config
createPostgresStore({ query: textOnly });

// @ts-expect-error query must resolve to rows and rowCount
createPostgresStore({ query: async () => 1 });

// @ts-expect-error table is a string
createPostgresStore(pool, { table: 1 });

// @ts-expect-error createTable is a boolean
createPostgresStore(client, { createTable: 'yes' });
