/** Store conformance: get, set and destroy — what a record is and how it is kept. */
import assert from 'node:assert/strict';
import type { RecordData } from '../../stores/types.js';
import { randomKey, randomUserId, sampleMeta, sampleRecord } from '../records.js';
import type { Suite } from '../runner.js';
import type { Run } from './harness.js';

/** Values chosen to break stores that build keys, paths, JSON or SQL by string concatenation. */
function awkwardData(): RecordData {
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

export function describeRecordRules(suite: Suite, run: Run): void {
  suite.describe('get and set', () => {
    describeRoundTrips(suite, run);
    describeRecordOwnership(suite, run);
  });
  suite.describe('destroy', () => describeDestroy(suite, run));
}

/** What set stores, get returns exactly: plain, awkward, large and prototype-named data. */
function describeRoundTrips({ it }: Suite, run: Run): void {
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
      const data: RecordData = JSON.parse(
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
}

/** A stored record belongs to the store: no shared references, no older version replacing it. */
function describeRecordOwnership({ it }: Suite, run: Run): void {
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
      assert.deepEqual(await store.get(key), sampleRecord(clock, { cart: ['a'], profile: { name: 'Ada' } }));
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
}

/** destroy removes a record and names the successor it linked to, atomically with a linking patch. */
function describeDestroy({ it }: Suite, run: Run): void {
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
}
