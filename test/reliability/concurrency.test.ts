/**
 * CI-sized concurrency runs (`npm run concurrency` runs 200 clients for 60 s): many clients at once,
 * each checking its own session against its own model; see docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QUICK_CONCURRENCY, runConcurrency } from '../../reliability/lib/concurrency-run.js';
import { binariesSkip } from '../../tools/services.js';

const skip = binariesSkip();

describe('concurrent clients with their own models (CI-sized)', { skip }, () => {
  it('loses no update and mixes no sessions with Express + Redis, token rotation on', async () => {
    const result = await runConcurrency('redis', QUICK_CONCURRENCY);
    assert.deepEqual(result.failures, [], JSON.stringify(result.examples));
    assert.deepEqual(result.violations, {});
    assert.deepEqual(result.final, { ok: QUICK_CONCURRENCY.clients });
    assert.ok(result.rotations > 0, 'tokens rotated during the run');
  });

  it('loses no update and mixes no sessions with Express + tiered Redis→PostgreSQL, token rotation on', async () => {
    const result = await runConcurrency('tiered', QUICK_CONCURRENCY);
    assert.deepEqual(result.failures, [], JSON.stringify(result.examples));
    assert.deepEqual(result.violations, {});
    assert.deepEqual(result.final, { ok: QUICK_CONCURRENCY.clients });
    assert.ok(result.rotations > 0, 'tokens rotated during the run');
  });
});
