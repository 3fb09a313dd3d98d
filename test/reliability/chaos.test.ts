/**
 * CI-sized chaos runs (`npm run chaos -- --quick` runs the same): real server processes frozen, killed,
 * restarted or slowed under load; see docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type ChaosContext,
  createChaosContext,
  QUICK_TIMING,
  runScenario,
  type ScenarioDefinition,
  type ScenarioResult,
  scenarios,
} from '../../reliability/lib/chaos-scenarios.js';
import { binariesSkip } from '../../tools/services.js';

const skip = binariesSkip();

function scenario(name: string): ScenarioDefinition {
  const found = scenarios.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no scenario ${name}`);
  return found;
}

/** The promises every scenario keeps: no violation, every session there at the end, service resumed. */
function assertKept(result: ScenarioResult): void {
  assert.deepEqual(
    result.failures,
    [],
    JSON.stringify({ failures: result.failures, examples: result.examples }),
  );
  assert.deepEqual(result.violations, {});
  assert.equal(result.sessionsBefore, QUICK_TIMING.visitors);
  assert.equal(result.final.ok, QUICK_TIMING.visitors);
  assert.notEqual(result.firstSuccessMs, null);
}

describe('chaos under load (CI-sized)', { skip }, () => {
  let context: ChaosContext;
  before(async () => {
    context = await createChaosContext();
  });
  after(async () => {
    await context?.close();
  });

  it('answers 503 (never 500, never a fresh session) while Redis is frozen, and resumes without losing a session', async () => {
    const result = await runScenario(scenario('redis-sigstop'), context, QUICK_TIMING);
    assertKept(result);
    assert.ok((result.byStatus['503'] ?? 0) > 0, 'the freeze failed requests');
    assert.deepEqual(Object.keys(result.byStatus).sort(), ['200', '503']);
    assert.equal(result.sessionsLost, 0);
  });

  it('answers 503 while Redis is killed, and after its restart (AOF) every session written before is there', async () => {
    const result = await runScenario(scenario('redis-sigkill'), context, QUICK_TIMING);
    assertKept(result);
    assert.ok((result.byStatus['503'] ?? 0) > 0, 'the kill failed requests');
    assert.deepEqual(Object.keys(result.byStatus).sort(), ['200', '503']);
    assert.equal(result.sessionsLost, 0);
  });

  it('fails no request while the Redis cache of a tiered store is frozen, and serves nothing stale after', async () => {
    const result = await runScenario(scenario('tiered-redis-sigstop'), context, QUICK_TIMING);
    assertKept(result);
    assert.deepEqual(Object.keys(result.byStatus), ['200']);
    assert.ok((result.events['fault/cache-error'] ?? 0) > 0, 'the cache failed during the freeze');
    assert.ok((result.events['after/cache-hit'] ?? 0) > 0, 'the cache serves again after');
  });

  it('fails no request while the Redis cache of a tiered store is killed and restarted empty', async () => {
    const result = await runScenario(scenario('tiered-redis-sigkill'), context, QUICK_TIMING);
    assertKept(result);
    assert.deepEqual(Object.keys(result.byStatus), ['200']);
    assert.ok((result.events['fault/cache-error'] ?? 0) > 0, 'the cache failed while dead');
  });

  it('loses no session and fails no request when memcached in front of PostgreSQL restarts empty', async () => {
    const result = await runScenario(scenario('tiered-memcached-restart'), context, QUICK_TIMING);
    assertKept(result);
    assert.deepEqual(Object.keys(result.byStatus), ['200']);
    assert.ok((result.events['fault/cache-error'] ?? 0) > 0, 'the cache failed while stopped');
    assert.equal(result.sessionsLost, 0);
  });

  it('answers 503 while PostgreSQL is down, recovers without an app restart, and leaves no corrupted row', async () => {
    const result = await runScenario(scenario('postgres-restart'), context, QUICK_TIMING);
    assertKept(result);
    assert.ok((result.byStatus['503'] ?? 0) > 0, 'the stop failed requests');
    assert.deepEqual(Object.keys(result.byStatus).sort(), ['200', '503']);
    assert.equal(result.events['decode-error'], undefined);
  });

  it('bounds requests by the store timeout when the store is slower than it, and recovers after', async () => {
    const result = await runScenario(scenario('slow-store'), context, QUICK_TIMING);
    assertKept(result);
    const fault = result.phases.fault;
    assert.ok(fault !== undefined && fault.requests > 0);
    assert.deepEqual(Object.keys(fault.byStatus), ['503']);
    assert.ok((result.events['store-error:timeout'] ?? 0) > 0);
    assert.ok(
      (result.phases['slow-under-timeout']?.byStatus['200'] ?? 0) > 0,
      'a store slower than usual but within the timeout still serves',
    );
  });
});
