import * as mariadb from 'mariadb';
import mysql2 from 'mysql2';
import mysql2promise from 'mysql2/promise';
import { createMysqlStore, type MysqlLike, type MysqlStore } from './mysql.js';

// Both drivers' promise pools fit the store's structural contract.
const mysql2Pool: MysqlLike = mysql2promise.createPool({ host: '127.0.0.1' });
const mariadbPool: MysqlLike = mariadb.createPool({ host: '127.0.0.1' });
const fromMysql2: MysqlStore = createMysqlStore(mysql2promise.createPool({}), {
  table: 'app.sessions',
  createTable: false,
});
createMysqlStore(mariadb.createPool({}));
// mysql2's callback pool, through its promise wrapper.
createMysqlStore(mysql2.createPool({}).promise());
void (fromMysql2.migrate() satisfies Promise<void>);
void (fromMysql2.destroy('key') satisfies Promise<{ successor: string | null }>);

// @ts-expect-error mysql2's callback pool (not mysql2/promise) does not fit
createMysqlStore(mysql2.createPool({}));

// @ts-expect-error a single connection cannot lend connections for transactions
createMysqlStore(await mariadb.createConnection({}));

// @ts-expect-error a pool without getConnection() does not fit
createMysqlStore({ query: async () => [] });

// @ts-expect-error table is a string
createMysqlStore(mysql2Pool, { table: 1 });

// @ts-expect-error createTable is a boolean
createMysqlStore(mariadbPool, { createTable: 'yes' });
