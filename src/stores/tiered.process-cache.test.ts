/**
 * Issue 11, race 4: two real processes, each with its own memory cache, over one durable store. Once a
 * destroy (or a login's successor link) in process B has resolved, process A must not serve its cached
 * copy any more. Without leases A keeps serving it from its cache until the entry expires.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postgresTable } from '../../test/fixtures/postgres-table.js';
import { type RemoteStore, remoteStore } from '../../test/lifecycle/remote-store.js';
import { serviceSkip, services } from '../../tools/services.js';
import { createSessionManager } from '../index.js';
import { createFakeClock, pausableStore, randomKey, sampleMeta, sampleRecord } from '../testing/index.js';
import { createMemoryStore } from './memory.js';
import { createSqliteStore } from './sqlite.js';
import { createTieredStore } from './tiered.js';

const postgresSkip = await serviceSkip('PostgreSQL', services.postgres.port, services.postgres.host);

function describeTwoProcesses(
  title: string,
  durable: 'sqlite' | 'postgres',
  prepare: () => Promise<{ name: string; drop: () => Promise<void> }>,
  skip: false | string = false,
) {
  describe(`two processes with memory caches over one ${title}`, { skip }, () => {
    let a: RemoteStore;
    let b: RemoteStore;
    let drop = async () => {};
    before(async () => {
      const prepared = await prepare();
      drop = prepared.drop;
      // The default lease (1000 ms).
      const start = () => remoteStore(durable, prepared.name, { cacheLeaseMs: 1000 });
      [a, b] = await Promise.all([start(), start()]);
    });
    after(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await drop();
    });

    it('once B destroyed a session A has cached, A no longer loads it', async () => {
      const clock = createFakeClock();
      const key = randomKey();
      const record = sampleRecord(clock, { user: 'alice' });
      await a.set(key, record);
      assert.deepEqual(await a.get(key), record, 'A caches the session');
      await b.destroy(key);
      assert.equal(await a.get(key), null, 'A must not serve its cached copy after the destroy resolved');
    });

    it('once B linked a successor (login), A no longer serves the old record as live', async () => {
      const clock = createFakeClock();
      const [key, next] = [randomKey(), randomKey()];
      await a.set(key, sampleRecord(clock, { user: 'alice' }));
      assert.equal((await a.get(key))?.meta.successor, undefined);
      const successor = { key: next, graceUntil: clock.now(), regenerated: true as const };
      const linked = await b.patch(key, {
        set: {},
        delete: ['user'],
        meta: sampleMeta(clock, { successor }),
        ifVersion: 1,
      });
      assert.equal(linked.status, 'ok');
      assert.deepEqual((await a.get(key))?.meta.successor, successor);
    });
  });
}

describeTwoProcesses('SQLite file', 'sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-tiered-'));
  const file = join(dir, 'sessions.db');
  // Create the table once, before the two processes open the file.
  const setup = await remoteStore('sqlite', file, { cacheLeaseMs: 0, durableOnly: true });
  await setup.get(randomKey());
  await setup.close();
  return { name: file, drop: async () => rmSync(dir, { recursive: true, force: true }) };
});

describeTwoProcesses(
  'PostgreSQL table',
  'postgres',
  async () => {
    const table = postgresTable(createFakeClock(), 'sk_tiered_proc');
    await table.store.get(randomKey());
    return { name: table.table, drop: () => table.drop() };
  },
  postgresSkip,
);

describe('two tiered stores (memory caches) over one SQLite store, as two processes', () => {
  it('revokeUserSessions waits out a concurrent destroy of a session it no longer lists', async () => {
    const clock = createFakeClock();
    const sqlite = createSqliteStore(':memory:', { pruneIntervalSeconds: 0, clock });
    const durable = pausableStore(sqlite);
    const a = createTieredStore({ cache: createMemoryStore({ clock }), durable: sqlite, clock });
    const b = createTieredStore({ cache: createMemoryStore({ clock }), durable, clock });
    const key = randomKey();
    try {
      await a.set(key, sampleRecord(clock, { user: 'alice' }));
      assert.notEqual(await a.get(key), null, 'A caches the session (its lease runs)');
      // B revokes the session: its destroy has removed the row and is paused before its lease wait.
      const held = durable.pause('destroy', undefined, { after: true });
      const destroying = b.destroy(key);
      await held.reached;
      // A second revocation lists nothing (the row is gone) while A may still serve its copy.
      const manager = createSessionManager({ store: b, clock });
      await manager.revokeUserSessions('alice');
      assert.equal(await a.get(key), null, 'A must not serve the session once the revocation resolved');
      held.release();
      await destroying;
    } finally {
      await Promise.all([a.close?.(), b.close?.(), sqlite.close()]);
    }
  });
});
