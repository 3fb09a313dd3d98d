/**
 * The conformance suite every `SessionStore` runs: the rules of the store contract
 * (`sessionkit` `SessionStore`), as `node:test` tests against a real backend.
 *
 * @module
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { SessionData, SessionPatch, SessionRecord, SessionStore } from '../stores/types.js';
import { createFakeClock, type FakeClock } from './fake-clock.js';
import { describeLifecycleRaces } from './lifecycle-conformance.js';
import { randomKey, randomUserId, sampleMeta, sampleRecord } from './records.js';
import { describeSessionBehaviour } from './session-conformance.js';

/** A store under test, the fake clock it was given, and how to dispose of both. */
export interface StoreHarness {
  /** The store, created with `clock` (its factory's `clock` option). */
  store: SessionStore;
  /** The clock the store reads; the suite advances it to expire records. */
  clock: FakeClock;
  /** Closes the store and removes what the harness created (tables, key prefixes, files). */
  cleanup?: () => Promise<void>;
}

/** How `describeStoreConformance` runs. */
export interface StoreConformanceOptions {
  /** Skip the whole suite, with the reason shown in the report (e.g. from `serviceSkip`). @default false */
  skip?: false | string;
  /**
   * Whether the store must have a per-user index (`listByUser` and `destroyByUser`). `false` skips those
   * tests; `true` fails them if the methods are missing. @default whether the store has `listByUser`
   */
  perUserIndex?: boolean;
}

/** Creates an isolated store harness around the given fake clock (once per test). */
export type StoreSetup = (clock: FakeClock) => Promise<StoreHarness>;
type Body = (harness: StoreHarness, t: TestContext) => Promise<void>;
type IndexedStore = SessionStore & Required<Pick<SessionStore, 'listByUser' | 'destroyByUser'>>;

/**
 * Declares `describe("<name> store conformance")` with the store contract's tests. `setup` runs once per
 * test with a fresh fake clock and must return a store isolated from every other harness (its own table,
 * key prefix or file), because `prune` and `destroyByUser` act on everything the store can see.
 * @example
 * describeStoreConformance('memory', async (clock) => {
 *   const store = createMemoryStore({ clock });
 *   return { store, clock, cleanup: () => store.close() };
 * });
 */
export function describeStoreConformance(
  name: string,
  setup: StoreSetup,
  options: StoreConformanceOptions = {},
): void {
  describe(`${name} store conformance`, { skip: options.skip ?? false }, () => {
    // A harness per test, disposed in `finally`: node 20 skips afterEach hooks for tests that call t.skip().
    const run =
      (body: Body) =>
      async (t: TestContext): Promise<void> => {
        const harness = await setup(createFakeClock());
        try {
          await body(harness, t);
        } finally {
          await harness.cleanup?.();
        }
      };
    describeRecordRules(run);
    describePatchRules(run);
    describeConcurrency(run);
    describeUserIndex(run, options.perUserIndex);
    describePrune(run);
    describeSessionBehaviour(run);
    describeLifecycleRaces(run);
  });
}

type Run = (body: Body) => (t: TestContext) => Promise<void>;

/** Values chosen to break stores that build keys, paths, JSON or SQL by string concatenation. */
function awkwardData(): SessionData {
  return {
    nested: { list: [1, { deeper: [true, false, null, { z: 'deep' }] }], empty: {}, none: [] },
    unicode: 'héllo wörld — 日本語 🙂 \u2028\u2029 e\u0301 \u{1F468}\u200D\u{1F469}\u200D\u{1F467}',
    quotes: `'single' "double" \`back\` \\ \\\\ \\" \n newline \r\n crlf \t tab`,
    sql: "'); DROP TABLE sessions; --",
    json: '{"not":"an object"}',
    'a.b': 'dotted',
    $x: 'dollar',
    '$.x': 'json path',
    'a:b': 'colon',
    '🙂': 'emoji key',
    'with space': 'space',
    '': 'empty key',
    'quo"te': 'quote key',
    'back\\slash': 'backslash key',
    "it's": 'apostrophe key',
    '1': 'integer-like key',
    '01': 'padded integer-like key',
    meta: 'collides with a field name',
    version: 'collides with a field name',
    data: 'collides with a field name',
    key: 'collides with a field name',
    expiresAt: 'collides with a field name',
    empty: '',
    zero: 0,
    no: false,
    nothing: null,
    numbers: [0.1, -1.5e-7, 1e21, Math.PI, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
  };
}

function describeRecordRules(run: Run): void {
  describe('get and set', () => {
    it(
      'get resolves to null for a key never stored',
      run(async ({ store }) => {
        assert.equal(await store.get(randomKey()), null);
      }),
    );

    it(
      'get returns what set stored',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const record = sampleRecord(clock, { cart: [{ sku: 'A-1', qty: 2 }], greeting: 'hi' }, {}, 3);
        await store.set(key, record);
        assert.deepEqual(await store.get(key), record);
      }),
    );

    it(
      'round-trips awkward keys and values and a fully populated meta exactly',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const now = clock.now();
        const record = sampleRecord(clock, awkwardData(), {
          userId: randomUserId(),
          authenticatedAt: now - 1,
          rotatedAt: now - 2,
          rotations: 3,
          client: { userAgent: 'Mozilla/5.0 "quoted" ünïcode', ipPrefix: '2001:db8::/48' },
          successor: { key: randomKey(), sealed: 'c2VhbGVk', graceUntil: now + 60_000 },
        });
        await store.set(key, record);
        assert.deepEqual(await store.get(key), record);
      }),
    );

    it(
      'round-trips a value of about 100 KB',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const rows = Array.from({ length: 500 }, (_, i) => ({ i, label: `row ${i} ✓` }));
        const record = sampleRecord(clock, { blob: 'x'.repeat(90_000), rows });
        await store.set(key, record);
        assert.deepEqual(await store.get(key), record);
      }),
    );

    it(
      'keeps a data key named __proto__ as an own property without touching any prototype',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const data: SessionData = JSON.parse(
          '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"inner":{"__proto__":{"polluted":"yes"}}}',
        );
        await store.set(key, sampleRecord(clock, data));
        const got = await store.get(key);
        assert.ok(got);
        assert.equal(Object.getPrototypeOf(got.data), Object.prototype);
        assert.ok(Object.hasOwn(got.data, '__proto__'));
        assert.deepEqual(got.data, data);
        const removed = await store.patch(key, {
          set: {},
          delete: ['__proto__', 'constructor'],
          meta: got.meta,
        });
        assert.equal(removed.status, 'ok');
        const without = await store.get(key);
        assert.ok(without);
        assert.deepEqual(Object.keys(without.data), ['inner']);
        assert.equal(Object.getPrototypeOf(without.data), Object.prototype);
        // Now the key is absent, so a store that assigns (data[key] = value) would swap the prototype.
        const added = await store.patch(key, {
          set: JSON.parse('{"__proto__":{"polluted":"again"}}'),
          delete: [],
          meta: got.meta,
        });
        assert.equal(added.status, 'ok');
        const after = await store.get(key);
        assert.ok(after);
        assert.equal(Object.getPrototypeOf(after.data), Object.prototype);
        assert.deepEqual(Object.getOwnPropertyDescriptor(after.data, '__proto__')?.value, {
          polluted: 'again',
        });
        assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
      }),
    );

    it(
      'get returns a copy or a frozen record: changing it changes nothing stored',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const record = sampleRecord(clock, { cart: ['a'], profile: { name: 'Ada' } });
        await store.set(key, record);
        const first = await store.get(key);
        assert.ok(first);
        const cart = first.data.cart;
        assert.ok(Array.isArray(cart));
        // A store may hand out deep-frozen records instead of copies: then each change throws.
        const attempt = (change: () => void) => {
          try {
            change();
          } catch (error) {
            assert.ok(error instanceof TypeError);
          }
        };
        attempt(() => cart.push('b'));
        attempt(() => {
          first.data.added = true;
        });
        attempt(() => {
          first.meta.expiresAt = 0;
        });
        attempt(() => {
          first.version = 99;
        });
        assert.deepEqual(
          await store.get(key),
          sampleRecord(clock, { cart: ['a'], profile: { name: 'Ada' } }),
        );
      }),
    );

    it(
      'set keeps no reference to the caller’s record',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const record = sampleRecord(clock, { cart: ['a'] });
        await store.set(key, record);
        const cart = record.data.cart;
        assert.ok(Array.isArray(cart));
        cart.push('b');
        record.meta.userId = 'intruder';
        assert.deepEqual(await store.get(key), sampleRecord(clock, { cart: ['a'] }));
      }),
    );

    it(
      'set does not replace a stored record of equal or higher version; a higher version replaces it',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const v2 = sampleRecord(clock, { which: 'v2' }, {}, 2);
        await store.set(key, v2);
        await store.set(key, sampleRecord(clock, { which: 'v2 again' }, {}, 2));
        await store.set(key, sampleRecord(clock, { which: 'v1' }, {}, 1));
        assert.deepEqual(await store.get(key), v2);
        const v3 = sampleRecord(clock, { which: 'v3' }, { userId: randomUserId() }, 3);
        await store.set(key, v3);
        assert.deepEqual(await store.get(key), v3);
      }),
    );
  });

  describe('destroy', () => {
    it(
      'makes get resolve to null and patch report missing',
      run(async ({ store, clock }) => {
        const key = randomKey();
        await store.set(key, sampleRecord(clock, { a: 1 }));
        await store.destroy(key);
        assert.equal(await store.get(key), null);
        assert.deepEqual(await store.patch(key, { set: { a: 2 }, delete: [], meta: sampleMeta(clock) }), {
          status: 'missing',
        });
        assert.equal(await store.get(key), null);
      }),
    );

    it(
      'resolves to { successor: null } for a key never stored or a record without successor',
      run(async ({ store, clock }) => {
        assert.deepEqual(await store.destroy(randomKey()), { successor: null });
        const key = randomKey();
        await store.set(key, sampleRecord(clock, { a: 1 }));
        assert.deepEqual(await store.destroy(key), { successor: null });
        assert.deepEqual(await store.destroy(key), { successor: null });
      }),
    );

    it(
      'resolves to the successor key of the record it removed (rotated and regenerated links)',
      run(async ({ store, clock }) => {
        const [rotated, regenerated, next] = [randomKey(), randomKey(), randomKey()];
        const graceUntil = clock.now() + 60_000;
        await store.set(
          rotated,
          sampleRecord(clock, {}, { successor: { key: next, sealed: 'c2Vh', graceUntil } }),
        );
        await store.set(
          regenerated,
          sampleRecord(clock, {}, { successor: { key: next, graceUntil, regenerated: true } }),
        );
        assert.deepEqual(await store.destroy(rotated), { successor: next });
        assert.deepEqual(await store.destroy(regenerated), { successor: next });
        assert.equal(await store.get(rotated), null);
        assert.equal(await store.get(regenerated), null);
        // Removed means removed: a second destroy learns nothing.
        assert.deepEqual(await store.destroy(rotated), { successor: null });
      }),
    );

    it(
      'of a record and a concurrent successor-setting patch: either the patch is missing or destroy names the successor',
      run(async ({ store, clock }) => {
        // The lineage rule the core builds on: destroy and the patch that links a successor are atomic
        // with respect to each other, so revocation never misses a successor.
        for (let round = 0; round < 20; round++) {
          const [key, next] = [randomKey(), randomKey()];
          await store.set(key, sampleRecord(clock, { a: 1 }));
          const link = { key: next, sealed: 'c2Vh', graceUntil: clock.now() + 60_000 };
          const [patched, destroyed] = await Promise.all([
            store.patch(key, {
              set: {},
              delete: ['a'],
              meta: sampleMeta(clock, { successor: link }),
              ifVersion: 1,
            }),
            store.destroy(key),
          ]);
          if (patched.status === 'ok') assert.deepEqual(destroyed, { successor: next });
          else assert.deepEqual([patched.status, destroyed], ['missing', { successor: null }]);
          assert.equal(await store.get(key), null);
        }
      }),
    );
  });
}

function describePatchRules(run: Run): void {
  describe('patch', () => {
    it(
      'sets and deletes keys, replaces meta whole, adds one to the version and returns the new record',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const stored = sampleRecord(
          clock,
          { keep: 1, change: 'old', drop: true, profile: { a: 1, b: 2 } },
          { userId: randomUserId(), client: { userAgent: 'UA' } },
          3,
        );
        await store.set(key, stored);
        clock.advanceSeconds(10);
        const meta = sampleMeta(clock, { createdAt: stored.meta.createdAt });
        const result = await store.patch(key, {
          set: { change: 'new', added: [1, 2], profile: { c: 3 } },
          delete: ['drop', 'never-there'],
          meta,
        });
        const expected: SessionRecord = {
          data: { keep: 1, change: 'new', added: [1, 2], profile: { c: 3 } },
          version: 4,
          meta,
        };
        assert.deepEqual(result, { status: 'ok', record: expected });
        assert.deepEqual(await store.get(key), expected);
      }),
    );

    it(
      'with nothing to set or delete still replaces meta and adds one to the version',
      run(async ({ store, clock }) => {
        const key = randomKey();
        await store.set(key, sampleRecord(clock, { a: 1 }));
        clock.advanceSeconds(60);
        const meta = sampleMeta(clock);
        const result = await store.patch(key, { set: {}, delete: [], meta });
        assert.deepEqual(result, { status: 'ok', record: { data: { a: 1 }, version: 2, meta } });
        assert.deepEqual(await store.get(key), { data: { a: 1 }, version: 2, meta });
      }),
    );

    it(
      'keeps no reference to the patch and returns a record the caller may change',
      run(async ({ store, clock }) => {
        const key = randomKey();
        await store.set(key, sampleRecord(clock, {}));
        const patch: SessionPatch = { set: { list: ['a'] }, delete: [], meta: sampleMeta(clock) };
        const result = await store.patch(key, patch);
        assert.equal(result.status, 'ok');
        const expected = { data: { list: ['a'] }, version: 2, meta: sampleMeta(clock) };
        const sent = patch.set.list;
        assert.ok(Array.isArray(sent) && result.status === 'ok');
        sent.push('from patch');
        patch.meta.expiresAt = 0;
        const returned = result.record.data.list;
        assert.ok(Array.isArray(returned));
        returned.push('from result');
        result.record.meta.userId = 'intruder';
        assert.deepEqual(await store.get(key), expected);
      }),
    );

    it(
      'reports missing for an unknown key and creates nothing',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const result = await store.patch(key, { set: { a: 1 }, delete: [], meta: sampleMeta(clock) });
        assert.deepEqual(result, { status: 'missing' });
        const withVersion = await store.patch(key, {
          set: { a: 1 },
          delete: [],
          meta: sampleMeta(clock),
          ifVersion: 0,
        });
        assert.deepEqual(withVersion, { status: 'missing' });
        assert.equal(await store.get(key), null);
      }),
    );

    it(
      'reports conflict when ifVersion differs from the stored version and changes nothing',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const stored = sampleRecord(clock, { n: 1 }, {}, 5);
        await store.set(key, stored);
        const meta = sampleMeta(clock, { userId: randomUserId() });
        assert.deepEqual(await store.patch(key, { set: { n: 2 }, delete: ['n'], meta, ifVersion: 4 }), {
          status: 'conflict',
        });
        assert.deepEqual(await store.patch(key, { set: { n: 2 }, delete: [], meta, ifVersion: 6 }), {
          status: 'conflict',
        });
        assert.deepEqual(await store.get(key), stored);
        const matching = await store.patch(key, { set: { n: 2 }, delete: [], meta, ifVersion: 5 });
        assert.deepEqual(matching, { status: 'ok', record: { data: { n: 2 }, version: 6, meta } });
      }),
    );

    it(
      'reports missing for a rotated-out record (meta.successor) and changes nothing',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const successor = { key: randomKey(), sealed: 'c2VhbGVk', graceUntil: clock.now() + 60_000 };
        const stored = sampleRecord(clock, { a: 1 }, { successor }, 7);
        await store.set(key, stored);
        const meta = sampleMeta(clock);
        assert.deepEqual(await store.patch(key, { set: { a: 2 }, delete: [], meta }), { status: 'missing' });
        assert.deepEqual(await store.patch(key, { set: { a: 2 }, delete: [], meta, ifVersion: 7 }), {
          status: 'missing',
        });
        assert.deepEqual(await store.get(key), stored);
      }),
    );
  });
}

/** get → patch with ifVersion → retry on conflict, as `session.update()` does. */
async function compareAndSetIncrement(store: SessionStore, key: string, maxAttempts: number): Promise<void> {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const current = await store.get(key);
    assert.ok(current, 'the record exists');
    const n = current.data.n;
    if (typeof n !== 'number') assert.fail(`data.n should be a number, got ${typeof n}`);
    const result = await store.patch(key, {
      set: { n: n + 1 },
      delete: [],
      meta: current.meta,
      ifVersion: current.version,
    });
    if (result.status === 'ok') return;
    assert.equal(result.status, 'conflict');
  }
  assert.fail(`no compare-and-set succeeded in ${maxAttempts} attempts`);
}

function describeConcurrency(run: Run): void {
  describe('concurrent writes', () => {
    it(
      'keeps both of two concurrent patches of different keys',
      run(async ({ store, clock }) => {
        const key = randomKey();
        await store.set(key, sampleRecord(clock, { base: true }));
        const meta = sampleMeta(clock);
        const results = await Promise.all([
          store.patch(key, { set: { a: 'A' }, delete: [], meta }),
          store.patch(key, { set: { b: 'B' }, delete: ['base'], meta }),
        ]);
        const versions = results.map((r) => (r.status === 'ok' ? r.record.version : r.status));
        assert.deepEqual(versions.toSorted(), [2, 3]);
        assert.deepEqual(await store.get(key), { data: { a: 'A', b: 'B' }, version: 3, meta });
      }),
    );

    it(
      'ends at exactly 100 after 100 concurrent compare-and-set increments',
      run(async ({ store, clock }) => {
        const key = randomKey();
        await store.set(key, sampleRecord(clock, { n: 0 }));
        // A worker can lose at most once per success of the 99 others, so 100 attempts always suffice.
        await Promise.all(Array.from({ length: 100 }, () => compareAndSetIncrement(store, key, 100)));
        const final = await store.get(key);
        assert.equal(final?.data.n, 100);
        assert.equal(final?.version, 101);
      }),
    );

    it(
      'keeps all of 1,000 concurrent patches of distinct keys, each at its own version',
      run(async ({ store, clock }) => {
        const key = randomKey();
        await store.set(key, sampleRecord(clock, {}));
        const meta = sampleMeta(clock);
        const results = await Promise.all(
          Array.from({ length: 1000 }, (_, i) =>
            store.patch(key, { set: { [`k${i}`]: i }, delete: [], meta }),
          ),
        );
        const versions = new Set(results.map((r) => (r.status === 'ok' ? r.record.version : r.status)));
        assert.equal(versions.size, 1000, 'every patch saw a distinct version');
        assert.ok(versions.has(2) && versions.has(1001));
        const expected = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
        assert.deepEqual(await store.get(key), { data: expected, version: 1001, meta });
      }),
    );

    it(
      'keeps the highest version when sets of one key race',
      run(async ({ store, clock }) => {
        const key = randomKey();
        const versions = [5, 2, 9, 1, 10, 3, 7, 4, 8, 6];
        await Promise.all(versions.map((v) => store.set(key, sampleRecord(clock, { v }, {}, v))));
        assert.deepEqual(await store.get(key), sampleRecord(clock, { v: 10 }, {}, 10));
      }),
    );
  });
}

function hasUserIndex(store: SessionStore): store is IndexedStore {
  return typeof store.listByUser === 'function' && typeof store.destroyByUser === 'function';
}

/** The store when it has a per-user index; otherwise skips the test (or fails it when one is required). */
function userIndexOf(
  store: SessionStore,
  t: TestContext,
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

function describeUserIndex(run: Run, required: boolean | undefined): void {
  describe('listByUser and destroyByUser', {
    skip: required === false ? 'perUserIndex: false' : false,
  }, () => {
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
  });
}

function describePrune(run: Run): void {
  describe('prune', () => {
    it(
      'removes the records past meta.expiresAt and keeps the live ones',
      run(async ({ store, clock }, t) => {
        if (!store.prune) {
          t.skip(`the ${store.kind} store has no prune()`);
          return;
        }
        const now = clock.now();
        const [soon, later, live] = [randomKey(), randomKey(), randomKey()];
        await store.set(soon, sampleRecord(clock, {}, { expiresAt: now + 60_000 }));
        await store.set(later, sampleRecord(clock, {}, { expiresAt: now + 120_000 }));
        const liveRecord = sampleRecord(clock, { live: true }, { expiresAt: now + 3_600_000 });
        await store.set(live, liveRecord);
        assert.equal(await store.prune(), 0);
        clock.advanceSeconds(5 * 60);
        assert.equal(await store.prune(), 2);
        assert.equal(await store.get(soon), null);
        assert.equal(await store.get(later), null);
        assert.deepEqual(await store.get(live), liveRecord);
        assert.equal(await store.prune(), 0);
      }),
    );
  });
}
