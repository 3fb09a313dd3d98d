/**
 * Ending lineages: a destroy along the successor links (logout, reuse, binding, eviction, revoke),
 * and the evict-oldest rule of `maxSessionsPerUser`.
 */
import { SessionLimitError, SessionStateError } from '../../errors.js';
import { publish } from '../diagnostics.js';
import type { SessionState } from '../session.js';
import type { SessionEntry } from '../store-contract.js';
import type { StoreContext } from './context.js';
import { markDestroyed } from './shared.js';

/** Most records one revocation destroys along a lineage's successor links before it gives up (and says so). */
const MAX_REVOKE_HOPS = 8;

/**
 * Revokes a lineage from `key` on: each destroy atomically removes a record and names its successor,
 * which is destroyed next (one round trip when there is none). A successor written by a rotation or
 * regenerate racing this call is either never linked (its step finds the record missing and creates
 * nothing) or linked before the destroy, and then reached here.
 */
export async function revokeChain(
  context: StoreContext,
  key: string,
  reason?: string,
  spare?: string,
): Promise<void> {
  const { store, kind } = context;
  let next: string | null = key;
  for (let hop = 0; next !== null; hop++) {
    if (hop === MAX_REVOKE_HOPS) {
      publish({ type: 'store-error', store: kind, reason: 'revoke-hops', detail: { hops: hop } });
      return;
    }
    const at: string = next;
    const { successor } = await context.call('destroy', () => store.destroy(at));
    publish(
      reason === undefined
        ? { type: 'destroyed', id: at, store: kind }
        : { type: 'destroyed', id: at, store: kind, reason },
    );
    next = successor === spare ? null : successor;
  }
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
