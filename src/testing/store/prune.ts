/** Store conformance: prune removes expired records. */
import assert from 'node:assert/strict';
import { randomKey, sampleRecord } from '../records.js';
import type { Suite } from '../runner.js';
import type { Run } from './harness.js';

export function describePrune({ describe, it }: Suite, run: Run): void {
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
