/**
 * Shape checks for what a store reads back (rows, JSON text) and the lazy table migration the SQL stores
 * share. Nothing here throws on bad stored data: a caller reports it as `decode-error`.
 */
import type { RecordData, SessionMeta } from '../../core/store-contract.js';

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is RecordData {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The timestamps every record's meta carries, and a string userId when there is one. */
export function isMeta(value: unknown): value is SessionMeta {
  return (
    isObject(value) &&
    typeof value.createdAt === 'number' &&
    typeof value.lastSeenAt === 'number' &&
    typeof value.idleExpiresAt === 'number' &&
    typeof value.absoluteExpiresAt === 'number' &&
    typeof value.expiresAt === 'number' &&
    (value.userId === undefined || typeof value.userId === 'string')
  );
}

/** `JSON.parse` of stored text, or `undefined` when it does not parse (the parser's message may quote secrets). */
export function parseStoredJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Runs `migrate` once before the first query when `enabled`; a failed migration is forgotten, so the next
 * call retries (the database may come up later). Resolves when the table is ready.
 */
export function migrationGate(enabled: boolean, migrate: () => Promise<void>): () => Promise<void> {
  let ready = !enabled;
  let migrating: Promise<void> | undefined;
  return async () => {
    if (ready) return;
    migrating ??= migrate().then(
      () => {
        ready = true;
      },
      (error: unknown) => {
        migrating = undefined;
        throw error;
      },
    );
    await migrating;
  };
}
