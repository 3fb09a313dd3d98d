/** Store conformance: concurrent writes to one record lose nothing. */
import assert from 'node:assert/strict';
import type { SessionStore } from '../../stores/types.js';
import { randomKey, sampleMeta, sampleRecord } from '../records.js';
import type { Suite } from '../runner.js';
import type { Run } from './harness.js';

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

export function describeConcurrency({ describe, it }: Suite, run: Run): void {
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
