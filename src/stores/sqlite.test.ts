import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { assertBadMetasRefused, assertLongMetaRead } from '../../test/stores/bad-records.js';
import { DIAGNOSTICS_CHANNEL } from '../core/diagnostics.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { randomKey, randomUserId, sampleRecord } from '../testing/records.js';
import { describeStoreConformance } from '../testing/store-conformance.js';
import { createSqliteStore } from './sqlite.js';

const run = promisify(execFile);
const WRITER = fileURLToPath(new URL('../../test/fixtures/sqlite-writer.ts', import.meta.url));

async function tempDir(t?: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sessionkit-sqlite-'));
  t?.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the writer fixture in its own node process. */
function writer(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', WRITER, ...args], { timeout: 60_000 });
}

/** Starts patch writers, releases them together once all are ready, and resolves when all exit 0. */
async function concurrentPatchers(
  file: string,
  key: string,
  prefixes: string[],
  count: number,
): Promise<void> {
  const children = prefixes.map((prefix) =>
    spawn(process.execPath, ['--import', 'tsx', WRITER, 'patch', file, key, prefix, String(count)], {
      stdio: ['pipe', 'pipe', 'inherit'],
      timeout: 60_000,
    }),
  );
  const exits = children.map(
    (child) =>
      new Promise<void>((resolve, reject) => {
        child.once('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`a writer exited with ${code}`)),
        );
      }),
  );
  await Promise.all(children.map((child) => once(child.stdout, 'data')));
  for (const child of children) child.stdin.end('go\n');
  await Promise.all(exits);
}

describeStoreConformance('sqlite (file it opens)', async (clock) => {
  const dir = await tempDir();
  const store = createSqliteStore(join(dir, 'not', 'yet', 'there', 'sessions.db'), { clock });
  return {
    store,
    clock,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeStoreConformance('sqlite (database it is given)', async (clock) => {
  const db = new Database(':memory:');
  const store = createSqliteStore(db, { clock, table: 'app_sessions' });
  return {
    store,
    clock,
    cleanup: async () => {
      await store.close();
      db.close();
    },
  };
});

describe('createSqliteStore', () => {
  it('creates its table with key, version, data, meta, user_id, expires_at and two indexes', () => {
    const db = new Database(':memory:');
    createSqliteStore(db, { table: 'my_sessions', pruneIntervalSeconds: 0 });
    const columns = db.prepare("SELECT name, type, pk FROM pragma_table_info('my_sessions')").all();
    assert.deepEqual(columns, [
      { name: 'key', type: 'TEXT', pk: 1 },
      { name: 'version', type: 'INTEGER', pk: 0 },
      { name: 'data', type: 'TEXT', pk: 0 },
      { name: 'meta', type: 'TEXT', pk: 0 },
      { name: 'user_id', type: 'TEXT', pk: 0 },
      { name: 'expires_at', type: 'INTEGER', pk: 0 },
    ]);
    const indexed = db
      .prepare(
        "SELECT i.name AS column FROM pragma_index_list('my_sessions') AS l, pragma_index_info(l.name) AS i " +
          "WHERE l.origin = 'c' ORDER BY i.name",
      )
      .all();
    assert.deepEqual(indexed, [{ column: 'expires_at' }, { column: 'user_id' }]);
    db.close();
  });

  it('reads and patches a row whose meta is in the long layout written before', async () => {
    const db = new Database(':memory:');
    const clock = createFakeClock();
    const store = createSqliteStore(db, { clock, pruneIntervalSeconds: 0 });
    await assertLongMetaRead(store, clock, async (key, meta) => {
      db.prepare('UPDATE sessions SET meta = ? WHERE key = ?').run(meta, key);
    });
    db.close();
  });

  it('reads a row whose meta breaks the strict check as null', async () => {
    const db = new Database(':memory:');
    const clock = createFakeClock();
    const store = createSqliteStore(db, { clock, pruneIntervalSeconds: 0 });
    await assertBadMetasRefused(store, 'sqlite', clock, async (key, meta) => {
      db.prepare('UPDATE sessions SET meta = ? WHERE key = ?').run(meta, key);
    });
    db.close();
  });

  it('reads a row that fails to decode as null and publishes decode-error without the key', async (t) => {
    const db = new Database(':memory:');
    const clock = createFakeClock();
    const store = createSqliteStore(db, { clock, pruneIntervalSeconds: 0 });
    const events: unknown[] = [];
    const onEvent = (message: unknown) => events.push(message);
    subscribe(DIAGNOSTICS_CHANNEL, onEvent);
    t.after(() => unsubscribe(DIAGNOSTICS_CHANNEL, onEvent));
    const alice = randomUserId('alice');
    const [badData, badMeta, good] = [randomKey(), randomKey(), randomKey()];
    for (const key of [badData, badMeta, good])
      await store.set(key, sampleRecord(clock, {}, { userId: alice }));
    db.prepare('UPDATE sessions SET data = ? WHERE key = ?').run('{"truncated": "secret-value', badData);
    db.prepare('UPDATE sessions SET meta = ? WHERE key = ?').run('[]', badMeta);

    assert.equal(await store.get(badData), null);
    assert.equal(await store.get(badMeta), null);
    assert.deepEqual(
      await store.patch(badData, { set: { a: 1 }, delete: [], meta: sampleRecord(clock).meta }),
      {
        status: 'missing',
      },
    );
    // The listing reads only meta, so the row with corrupt data is still listed; the one with corrupt meta is not.
    assert.deepEqual(
      (await store.listByUser(alice)).map((entry) => entry.key).toSorted(),
      [badData, good].toSorted(),
    );
    assert.deepEqual(events, Array(4).fill({ type: 'decode-error', store: 'sqlite' }));
    const published = JSON.stringify(events);
    for (const secret of [badData, badMeta, 'secret-value']) assert.equal(published.includes(secret), false);
    db.close();
  });

  it('treats an expired row as absent: get is null and a set of any version replaces it', async () => {
    const db = new Database(':memory:');
    const clock = createFakeClock();
    const store = createSqliteStore(db, { clock, pruneIntervalSeconds: 0 });
    const key = randomKey();
    await store.set(key, sampleRecord(clock, { old: true }, { expiresAt: clock.now() + 1000 }, 5));
    clock.advance(1000);
    assert.ok(await store.get(key), 'alive up to and including meta.expiresAt');
    clock.advance(1);
    assert.equal(await store.get(key), null);
    const fresh = sampleRecord(clock, { fresh: true }, {}, 1);
    await store.set(key, fresh);
    assert.deepEqual(await store.get(key), fresh);
    db.close();
  });

  it('deletes expired rows every pruneIntervalSeconds', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const db = new Database(':memory:');
    const clock = createFakeClock();
    const store = createSqliteStore(db, { clock, pruneIntervalSeconds: 300 });
    await store.set(randomKey(), sampleRecord(clock, {}, { expiresAt: clock.now() + 1000 }));
    await store.set(randomKey(), sampleRecord(clock, {}, { expiresAt: clock.now() + 3_600_000 }));
    const rows = () => db.prepare('SELECT count(*) AS n FROM sessions').get();
    clock.advanceSeconds(10);
    t.mock.timers.tick(299_999);
    assert.deepEqual(rows(), { n: 2 });
    t.mock.timers.tick(1);
    assert.deepEqual(rows(), { n: 1 });
    await store.close();
    db.close();
  });

  it('never closes a database it was given and closes one it opened', async (t) => {
    const given = new Database(':memory:');
    await createSqliteStore(given).close();
    assert.equal(given.open, true);
    given.close();
    const opened = createSqliteStore(join(await tempDir(t), 'sessions.db'));
    await opened.close();
    await assert.rejects(opened.get(randomKey()), /not open/);
  });

  it('opens a file in WAL mode', async (t) => {
    const file = join(await tempDir(t), 'sessions.db');
    const store = createSqliteStore(file);
    const other = new Database(file);
    assert.equal(other.pragma('journal_mode', { simple: true }), 'wal');
    other.close();
    await store.close();
  });

  it('rejects invalid options with ERR_SESSION_CONFIG naming the option', () => {
    const db = new Database(':memory:');
    for (const table of ['x; DROP TABLE y', 'a"b', '1abc', '', 'a.b', 'sqlite_master', 'x'.repeat(64)]) {
      assert.throws(() => createSqliteStore(db, { table }), { code: 'ERR_SESSION_CONFIG', option: 'table' });
    }
    for (const pruneIntervalSeconds of [-1, 0.5, Number.NaN, 3_000_000]) {
      assert.throws(() => createSqliteStore(db, { pruneIntervalSeconds }), {
        code: 'ERR_SESSION_CONFIG',
        option: 'pruneIntervalSeconds',
      });
    }
    for (const value of [{}, null, 42]) {
      assert.throws(() => Reflect.apply(createSqliteStore, undefined, [value]), {
        code: 'ERR_SESSION_CONFIG',
        option: 'pathOrDatabase',
      });
    }
    assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(), []);
    db.close();
  });

  it('keeps a record written by a process that has exited', async (t) => {
    const file = join(await tempDir(t), 'sessions.db');
    const clock = createFakeClock();
    const key = randomKey();
    const record = sampleRecord(clock, { cart: [{ sku: 'A-1', qty: 2 }], note: 'written by a child ✓' });
    await writer('set', file, key, JSON.stringify(record));
    const store = createSqliteStore(file, { clock });
    assert.deepEqual(await store.get(key), record);
    await store.close();
  });

  it('loses no patch when three processes patch one record at the same time', async (t) => {
    const file = join(await tempDir(t), 'sessions.db');
    const clock = createFakeClock();
    const store = createSqliteStore(file, { clock });
    const key = randomKey();
    await store.set(key, sampleRecord(clock, {}));
    await concurrentPatchers(file, key, ['a', 'b', 'c'], 100);
    const final = await store.get(key);
    assert.equal(final?.version, 301);
    assert.equal(Object.keys(final?.data ?? {}).length, 300);
    assert.equal(final?.data.a99, 99);
    assert.equal(final?.data.c99, 99);
    await store.close();
  });
});
