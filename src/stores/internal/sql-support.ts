/**
 * What the SQL stores (PostgreSQL, MySQL) share: the table option's check, the columns derived from
 * meta, and the lazy one-time migration.
 */
import type { SessionMeta } from '../../core/store-contract.js';
import { SessionConfigError } from '../../errors.js';
import { encodeMeta, isObject } from './record-codec.js';

/**
 * The parts of a table option, `"name"` or `"<qualifier>.name"`, each letters, digits and `_` of at most
 * `maxLength` characters; anything else throws `SessionConfigError("table")`.
 */
export function tableParts(table: unknown, maxLength: number, qualifier: string): string[] {
  const identifier = new RegExp(`^[A-Za-z_][A-Za-z0-9_]{0,${maxLength - 1}}$`);
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((part) => identifier.test(part))) {
    throw new SessionConfigError('table', `must be "name" or "${qualifier}.name" of letters, digits and _`);
  }
  return parts;
}

/** The meta, user_id and expires_at column values of a record's meta. */
export function metaColumns(meta: SessionMeta): [string, string | null, number] {
  return [encodeMeta(meta), meta.userId ?? null, Math.ceil(meta.expiresAt)];
}

/** The `successor` column a destroy returned (`null` when the row had none or did not exist). */
export function successorColumn(row: unknown): string | null {
  return isObject(row) && typeof row.successor === 'string' ? row.successor : null;
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
