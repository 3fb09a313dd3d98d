/**
 * CI-sized fuzz (`npm run fuzz -- --quick` runs a larger one, `npm run fuzz` a million requests):
 * hostile Cookie headers to the node and Express adapters; see docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type FuzzResult, runFuzz } from '../../reliability/lib/fuzz-run.js';

const REQUESTS = 8000;

describe('Cookie header fuzz against the node and Express adapters (CI-sized)', () => {
  let result: FuzzResult;
  before(async () => {
    result = await runFuzz({ total: REQUESTS, connections: 8, seed: 8 });
  });

  it('answers every request without a crash, a dropped connection or a 5xx', () => {
    assert.equal(result.total, REQUESTS);
    assert.equal(result.crashes, 0);
    assert.equal(result.noResponse, 0, JSON.stringify(result.examples['no-response']));
    assert.equal(result.serverErrors, 0, JSON.stringify(result.examples['5xx']));
  });

  it('accepts every genuine cookie and no session its genuine cookie does not name', () => {
    assert.deepEqual(Object.keys(result.targets).sort(), [
      'express-cookie',
      'express-store',
      'node-cookie',
      'node-store',
    ]);
    for (const [name, target] of Object.entries(result.targets)) {
      assert.ok(target.genuineSent > 0, name);
      assert.equal(target.genuineAccepted, target.genuineSent, name);
    }
    assert.equal(result.forged, 0, JSON.stringify(result.examples.forged));
  });

  it('never reads the store for a request without a well-formed token', () => {
    assert.ok((result.targets['node-store']?.storeReads['well-formed'] ?? 0) > 0);
    assert.equal(
      result.storeReadsForMalformed,
      0,
      JSON.stringify(result.examples['store-read-for-malformed']),
    );
  });

  it('accepts no cookie re-spelled with whitespace RFC 6265bis does not trim or with other unused base64url bits', () => {
    assert.equal(result.lenientWhitespace, 0, JSON.stringify(result.examples['lenient-whitespace']));
    assert.equal(result.nonCanonical, 0, JSON.stringify(result.examples['non-canonical-encoding']));
  });
});
