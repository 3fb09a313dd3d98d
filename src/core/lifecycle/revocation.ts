/**
 * Ending lineages: a destroy along the successor links (logout, reuse, binding, eviction, revoke),
 * and the evict-oldest rule of `maxSessionsPerUser`.
 */
import { SessionConflictError, SessionLimitError, SessionStateError } from '../../errors.js';
import { backoff, CAS_BACKOFF_CEILING_MS } from '../backoff.js';
import { publish } from '../diagnostics.js';
import type { SessionState } from '../session.js';
import type { SessionEntry, SessionPatch, SessionRecord } from '../store-contract.js';
import type { StoreContext } from './context.js';
import { markDestroyed } from './shared.js';

/** Most records one revocation destroys along a lineage's successor links before it gives up (and says so). */
const MAX_REVOKE_HOPS = 8;

/** Attempts of a revocation whose compare-and-set on a live record keeps losing to parallel writes. */
const MAX_KILL_ATTEMPTS = 16;

/**
 * Revokes a lineage from `key` on (true when all of it is gone, false when it ran out of hops), so
 * that a record found gone means everything it led to is gone too: a live record is first turned into a dead link to itself with one compare-and-set (from then
 * on it loads nothing, and a rotation or login racing it loses its own compare-and-set and removes
 * its new record), a link is revoked from its successor on (a link never changes), and a record is
 * removed only after what it links to. Two revocations of one lineage at once (two tabs logging out)
 * therefore never let one resolve while the other still has a successor to remove (race 9).
 */
export async function revokeChain(
  context: StoreContext,
  key: string,
  reason?: string,
  spare?: string,
  budget: { hops: number } = { hops: MAX_REVOKE_HOPS },
): Promise<boolean> {
  if (budget.hops === 0) {
    publish({
      type: 'store-error',
      store: context.kind,
      reason: 'revoke-hops',
      detail: { hops: MAX_REVOKE_HOPS },
    });
    return false;
  }
  budget.hops--;
  for (let attempt = 1; attempt <= MAX_KILL_ATTEMPTS; attempt++) {
    const record = await context.get(key);
    // Gone: expired, or removed by a revocation that had removed everything it linked to first.
    if (record === null) return true;
    const link = record.meta.successor;
    if (link !== undefined) {
      // The link stays while what it leads to may still live: found gone must mean gone all the way.
      if (
        link.key !== key &&
        link.key !== spare &&
        !(await revokeChain(context, link.key, reason, spare, budget))
      )
        return false;
      await remove(context, key, reason);
      return true;
    }
    const result = await context.call('patch', () => context.store.patch(key, killed(key, record)));
    if (result.status === 'ok') {
      await remove(context, key, reason);
      return true;
    }
    // missing: a rotation or login linked it meanwhile (read it again); conflict: a parallel write.
    if (result.status === 'conflict' && attempt > 1) await backoff(attempt, CAS_BACKOFF_CEILING_MS);
  }
  throw new SessionConflictError('(revoke)', MAX_KILL_ATTEMPTS);
}

/** The patch that ends a live record: no data, a link to itself that nobody follows, at its version. */
function killed(key: string, record: SessionRecord): SessionPatch {
  return {
    set: {},
    delete: Object.keys(record.data),
    meta: { ...record.meta, successor: { key, graceUntil: 0, regenerated: true } },
    ifVersion: record.version,
  };
}

async function remove(context: StoreContext, key: string, reason: string | undefined): Promise<void> {
  await context.call('destroy', () => context.store.destroy(key));
  publish(
    reason === undefined
      ? { type: 'destroyed', id: key, store: context.kind }
      : { type: 'destroyed', id: key, store: context.kind, reason },
  );
}

/** `session.destroy()`: the lineage revoked in the store before it resolves. */
export async function destroy(context: StoreContext, state: SessionState): Promise<void> {
  const key = state.key;
  if (!state.isNew && key !== undefined) await revokeChain(context, key);
  markDestroyed(state);
}

/** Enforces `maxSessionsPerUser` before a login adds one more session (SEC-22). */
export async function makeRoom(
  context: StoreContext,
  userId: string,
  currentKey: string | undefined,
): Promise<void> {
  const { store, kind, config } = context;
  const list = store.listByUser;
  if (list === undefined)
    throw new SessionStateError(`maxSessionsPerUser needs a per-user index; the ${kind} store has none`);
  const now = context.clock.now();
  const live = (await context.call('listByUser', () => list.call(store, userId)))
    .filter((entry) => entry.key !== currentKey && isLive(context, entry, userId, now))
    .sort((a, b) => a.meta.lastSeenAt - b.meta.lastSeenAt);
  const excess = live.length - config.maxSessionsPerUser + 1;
  if (excess <= 0) return;
  if (config.rejectOverLimit) throw new SessionLimitError(config.maxSessionsPerUser);
  for (const { key } of live.slice(0, excess)) await revokeChain(context, key, 'session-limit');
}

/** A listed entry that is a live session of `userId` issued for this app (not an alias, not expired). */
export function isLive(context: StoreContext, { meta }: SessionEntry, userId: string, now: number): boolean {
  return (
    !meta.successor &&
    meta.userId === userId &&
    meta.audience === context.config.audience &&
    now < Math.min(meta.idleExpiresAt, meta.absoluteExpiresAt)
  );
}
