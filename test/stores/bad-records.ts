/**
 * Stored metas every store must refuse (each breaks one rule of the record codec's strict check), and the
 * check that a store reads each of them as no record with one `decode-error` event.
 */
import assert from 'node:assert/strict';
import type { Clock } from '../../src/core/clock.js';
import type { SessionStore } from '../../src/stores/types.js';
import { randomKey, sampleMeta, sampleRecord } from '../../src/testing/records.js';
import { collectEvents } from '../fixtures/events.js';

/** Metas that break the strict check, by what is wrong with them. */
export function badMetas(clock: Clock): Record<string, unknown> {
  const { idleExpiresAt: _idle, ...noIdle } = sampleMeta(clock);
  const { expiresAt: _expires, ...noExpires } = sampleMeta(clock);
  return {
    'no idleExpiresAt': noIdle,
    'no expiresAt': noExpires,
    'a string createdAt': { ...sampleMeta(clock), createdAt: 'yesterday' },
    'a numeric userId': { ...sampleMeta(clock), userId: 42 },
    'an array': [],
    'a string': 'not meta',
    null: null,
  };
}

/**
 * Stores a record, overwrites its meta with each bad meta through `writeMeta` (the JSON text, written the
 * way the store keeps it), and checks that `get` reads null and publishes one `decode-error` for `kind`.
 */
export async function assertBadMetasRefused(
  store: SessionStore,
  kind: string,
  clock: Clock,
  writeMeta: (key: string, metaJson: string) => Promise<void>,
): Promise<void> {
  for (const [what, meta] of Object.entries(badMetas(clock))) {
    const key = randomKey();
    await store.set(key, sampleRecord(clock, { a: 1 }));
    await writeMeta(key, JSON.stringify(meta));
    const events = await collectEvents(async () => {
      assert.equal(await store.get(key), null, what);
    });
    assert.deepEqual(events, [{ type: 'decode-error', store: kind }], what);
  }
}
