/** Store conformance: the per-user index (listByUser, destroyByUser). */
import assert from 'node:assert/strict';
import type { SessionStore } from '../../stores/types.js';
import { randomKey, randomUserId, sampleMeta, sampleRecord } from '../records.js';
import type { Suite } from '../runner.js';
import type { ConformanceContext, Run } from './harness.js';

type IndexedStore = SessionStore & Required<Pick<SessionStore, 'listByUser' | 'destroyByUser'>>;

function hasUserIndex(store: SessionStore): store is IndexedStore {
  return typeof store.listByUser === 'function' && typeof store.destroyByUser === 'function';
}

/** The store when it has a per-user index; otherwise skips the test (or fails it when one is required). */
function userIndexOf(
  store: SessionStore,
  t: ConformanceContext,
  required: boolean | undefined,
): IndexedStore | null {
  if (hasUserIndex(store)) return store;
  if (required || store.listByUser || store.destroyByUser) {
    assert.fail('a per-user index needs both listByUser and destroyByUser');
  }
  t.skip(`the ${store.kind} store has no per-user index`);
  return null;
}

async function listedKeys(store: IndexedStore, userId: string): Promise<string[]> {
  return (await store.listByUser(userId)).map((entry) => entry.key).toSorted();
}

export function describeUserIndex({ describe, it }: Suite, run: Run, required: boolean | undefined): void {
  describe(
    'listByUser and destroyByUser',
    () => {
      it(
        'lists only the given user’s sessions, with their keys and meta',
        run(async (h, t) => {
          const store = userIndexOf(h.store, t, required);
          if (!store) return;
          const [alice, bob] = [randomUserId('alice'), randomUserId('bob')];
          const records = [alice, alice, bob, undefined].map((userId) => ({
            key: randomKey(),
            record: sampleRecord(h.clock, {}, userId === undefined ? {} : { userId }),
          }));
          for (const { key, record } of records) await store.set(key, record);
          const expected = records
            .filter(({ record }) => record.meta.userId === alice)
            .map(({ key, record }) => ({ key, meta: record.meta }))
            .toSorted((a, b) => (a.key < b.key ? -1 : 1));
          const listed = (await store.listByUser(alice)).toSorted((a, b) => (a.key < b.key ? -1 : 1));
          assert.deepEqual(listed, expected);
          assert.deepEqual(await store.listByUser(randomUserId('nobody')), []);
        }),
      );

      it(
        'follows userId set, changed and removed by patch and by a newer set',
        run(async (h, t) => {
          const store = userIndexOf(h.store, t, required);
          if (!store) return;
          const [alice, bob] = [randomUserId('alice'), randomUserId('bob')];
          const key = randomKey();
          await store.set(key, sampleRecord(h.clock, {}));
          await store.patch(key, { set: {}, delete: [], meta: sampleMeta(h.clock, { userId: alice }) });
          assert.deepEqual(await listedKeys(store, alice), [key]);
          await store.patch(key, { set: {}, delete: [], meta: sampleMeta(h.clock, { userId: bob }) });
          assert.deepEqual(await listedKeys(store, alice), []);
          assert.deepEqual(await listedKeys(store, bob), [key]);
          await store.patch(key, { set: {}, delete: [], meta: sampleMeta(h.clock) });
          assert.deepEqual(await listedKeys(store, bob), []);
          await store.set(key, sampleRecord(h.clock, {}, { userId: alice }, 10));
          assert.deepEqual(await listedKeys(store, alice), [key]);
        }),
      );

      it(
        'leaves destroyed sessions out',
        run(async (h, t) => {
          const store = userIndexOf(h.store, t, required);
          if (!store) return;
          const alice = randomUserId('alice');
          const [gone, kept] = [randomKey(), randomKey()];
          await store.set(gone, sampleRecord(h.clock, {}, { userId: alice }));
          await store.set(kept, sampleRecord(h.clock, {}, { userId: alice }));
          await store.destroy(gone);
          assert.deepEqual(await listedKeys(store, alice), [kept]);
        }),
      );

      it(
        'destroyByUser destroys every session of the user, resolves to the count and spares other users',
        run(async (h, t) => {
          const store = userIndexOf(h.store, t, required);
          if (!store) return;
          const [alice, bob] = [randomUserId('alice'), randomUserId('bob')];
          const aliceKeys = [randomKey(), randomKey(), randomKey()];
          const bobKey = randomKey();
          for (const key of aliceKeys) await store.set(key, sampleRecord(h.clock, {}, { userId: alice }));
          const bobRecord = sampleRecord(h.clock, { mine: true }, { userId: bob });
          await store.set(bobKey, bobRecord);
          assert.equal(await store.destroyByUser(alice), 3);
          for (const key of aliceKeys) assert.equal(await store.get(key), null);
          assert.deepEqual(await store.listByUser(alice), []);
          assert.deepEqual(await store.get(bobKey), bobRecord);
          assert.deepEqual(await listedKeys(store, bob), [bobKey]);
          assert.equal(await store.destroyByUser(alice), 0);
        }),
      );

      it(
        'destroyByUser spares exceptKey',
        run(async (h, t) => {
          const store = userIndexOf(h.store, t, required);
          if (!store) return;
          const alice = randomUserId('alice');
          const [current, other1, other2] = [randomKey(), randomKey(), randomKey()];
          const currentRecord = sampleRecord(h.clock, { current: true }, { userId: alice });
          await store.set(current, currentRecord);
          await store.set(other1, sampleRecord(h.clock, {}, { userId: alice }));
          await store.set(other2, sampleRecord(h.clock, {}, { userId: alice }));
          assert.equal(await store.destroyByUser(alice, current), 2);
          assert.deepEqual(await store.get(current), currentRecord);
          assert.equal(await store.get(other1), null);
          assert.equal(await store.get(other2), null);
          assert.deepEqual(await listedKeys(store, alice), [current]);
        }),
      );
    },
    required === false ? 'perUserIndex: false' : false,
  );
}
