/**
 * Stored metas every store must refuse (each breaks one rule of the record codec's strict check), and the
 * check that a store reads each of them as no record with one `decode-error` event; and the check that a
 * store still reads the long meta layout it wrote before the compact one (stores/internal/meta-layout.ts).
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

/**
 * Stores a record, rewrites its meta in the long layout (the meta object as JSON, as stores wrote it
 * before) through `writeMeta`, and checks that `get` reads the record and a patch applies to it.
 */
export async function assertLongMetaRead(
  store: SessionStore,
  clock: Clock,
  writeMeta: (key: string, metaJson: string) => Promise<void>,
): Promise<void> {
  const key = randomKey();
  const record = sampleRecord(clock, { a: 1 }, { userId: 'user-long', rotations: 2, rotatedAt: clock.now() });
  await store.set(key, record);
  await writeMeta(key, JSON.stringify(record.meta));
  assert.deepEqual(await store.get(key), record);
  const meta = sampleMeta(clock, { userId: 'user-long', authenticatedAt: clock.now() });
  const patched = await store.patch(key, { set: { b: 2 }, delete: [], meta, ifVersion: 1 });
  assert.deepEqual(patched, { status: 'ok', record: { data: { a: 1, b: 2 }, version: 2, meta } });
  assert.deepEqual(await store.get(key), { data: { a: 1, b: 2 }, version: 2, meta });
}
