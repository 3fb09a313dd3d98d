import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { findPostgresBinary } from './binaries.js';
import { type PostgresServer, startPostgres } from './postgres.js';
import { loudSkip, reachable } from './shared.js';

const skip =
  findPostgresBinary('initdb') !== undefined && findPostgresBinary('pg_ctl') !== undefined
    ? false
    : loudSkip('initdb/pg_ctl not installed', 'install PostgreSQL to run this suite', 'them');

async function query(server: PostgresServer, text: string): Promise<unknown[]> {
  const client = new pg.Client({ ...server.connection, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe('startPostgres', { skip }, () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.close();
  });

  it('starts a private cluster on a spare port that accepts the postgres user without a password', async () => {
    assert.notEqual(server.port, 5432);
    assert.deepEqual(await query(server, 'SELECT current_user AS who'), [{ who: 'postgres' }]);
  });

  it('stops (nothing listens) and starts again with its data', async () => {
    await query(server, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)');
    await server.stop('fast');
    assert.equal(await reachable(server.port), false);
    await server.start();
    assert.deepEqual(await query(server, 'SELECT n FROM kept'), [{ n: 1 }]);
  });

  it('recovers committed rows after a crash (immediate stop)', async () => {
    await query(server, 'INSERT INTO kept VALUES (2)');
    await server.stop('immediate');
    await server.start();
    assert.deepEqual(await query(server, 'SELECT n FROM kept ORDER BY n'), [{ n: 1 }, { n: 2 }]);
  });

  it('close() stops it and removes its directory', async () => {
    const rows = await query(server, "SELECT setting FROM pg_settings WHERE name = 'data_directory'");
    const [row] = rows;
    const dataDir = typeof row === 'object' && row !== null && 'setting' in row ? String(row.setting) : '';
    assert.ok(existsSync(dataDir), dataDir);
    await server.close();
    assert.equal(await reachable(server.port), false);
    assert.equal(existsSync(dataDir), false);
  });
});
