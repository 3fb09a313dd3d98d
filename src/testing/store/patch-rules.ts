/** Store conformance: per-key patches, their version check and meta. */
import assert from 'node:assert/strict';
import type { SessionPatch, SessionRecord } from '../../stores/types.js';
import { randomKey, randomUserId, sampleMeta, sampleRecord } from '../records.js';
import type { Suite } from '../runner.js';
import type { Run } from './harness.js';

export function describePatchRules({ describe, it }: Suite, run: Run): void {
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
