/**
 * CI-sized soak (`npm run soak` runs 10 minutes): session churn on every adapter with a memory store
 * each, time sped up so sessions expire during the run; see docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ADAPTERS } from '../../reliability/lib/soak-apps.js';
import { QUICK_SOAK, runSoak, type SoakResult } from '../../reliability/lib/soak-run.js';

describe('session churn on every adapter (CI-sized soak)', () => {
  let result: SoakResult;
  before(async () => {
    result = await runSoak(QUICK_SOAK);
  });

  it('answers every request and loses no session in use', () => {
    assert.ok(result.sessionsCreated > 0);
    assert.deepEqual(Object.keys(result.byStatus), ['200']);
    assert.equal(result.lostInUse, 0);
  });

  it('keeps sessions on every adapter and sweeps expired ones during the run', () => {
    for (const adapter of ADAPTERS) {
      assert.ok(
        result.samples.some((sample) => (sample.entries[adapter] ?? 0) > 0),
        `${adapter} stored sessions`,
      );
    }
    assert.ok(result.entriesAtEnd < result.createdAtEnd, 'entries were removed while sessions were created');
    assert.equal(result.samplesAboveBound, 0);
  });

  it('holds no entry once every session has expired', () => {
    assert.equal(result.entriesAfterExpiry, 0);
  });
});
