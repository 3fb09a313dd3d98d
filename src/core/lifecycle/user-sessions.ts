/**
 * A user's sessions through the store's per-user index: listed ("your devices"), revoked all at once
 * (logout everywhere, password change), or one revoked by its public id.
 */
import { SessionStateError } from '../../errors.js';
import { isWellFormedKey } from '../crypto.js';
import { publish } from '../diagnostics.js';
import { checkUserId, stateOf } from '../session.js';
import type { Session, SessionDataShape, UserSessionInfo } from '../types.js';
import type { StoreContext } from './context.js';
import { isLive, revokeChain } from './revocation.js';

/** The user's live sessions of this app, most recently seen first. */
export async function listUserSessions<Data extends SessionDataShape>(
  context: StoreContext,
  userId: string,
  current?: Session<Data>,
): Promise<UserSessionInfo[]> {
  const { store, kind } = context;
  checkUserId(userId);
  const list = store.listByUser;
  if (list === undefined) throw new SessionStateError(`the ${kind} store has no per-user index`);
  const entries = await context.call('listByUser', () => list.call(store, userId));
  const now = context.clock.now();
  const currentKey = current === undefined ? undefined : stateOf(current).key;
  return entries
    .filter((entry) => isLive(context, entry, userId, now))
    .map(({ key, meta }) => {
      const info: UserSessionInfo = {
        id: key,
        createdAt: meta.createdAt,
        lastSeenAt: meta.lastSeenAt,
        current: key === currentKey,
      };
      if (meta.authenticatedAt !== undefined) info.authenticatedAt = meta.authenticatedAt;
      if (meta.client?.userAgent !== undefined) info.userAgent = meta.client.userAgent;
      return info;
    })
    .sort((a, b) => b.lastSeenAt - a.lastSeenAt);
}

/**
 * Lists the user's records, then revokes each lineage from there: aliases (rotated- or regenerated-out
 * records) are revoked too, and their links reach successors created after the listing. Resolves to
 * the number of live sessions listed. A login that completes while this runs is a new authentication
 * and may survive it (docs/security.md).
 */
export async function revokeUserSessions<Data extends SessionDataShape>(
  context: StoreContext,
  userId: string,
  opts?: { except?: Session<Data> | string },
): Promise<number> {
  const { store, kind, config } = context;
  checkUserId(userId);
  const list = store.listByUser;
  if (list === undefined) throw new SessionStateError(`the ${kind} store has no per-user index`);
  const except = opts?.except;
  const exceptKey =
    typeof except === 'string' ? except : except === undefined ? undefined : stateOf(except).key;
  const entries = await context.call('listByUser', () => list.call(store, userId));
  const now = context.clock.now();
  const doomed = entries.filter(
    ({ key, meta }) => key !== exceptKey && meta.userId === userId && meta.audience === config.audience,
  );
  // A session a concurrent revocation removed before the listing is not listed, yet may still be
  // served from a process-local cache until that revocation resolves: settle outwaits it.
  const settle = store.settle;
  await Promise.all([
    ...doomed.map(({ key }) => revokeChain(context, key, 'revoke-user', exceptKey)),
    settle && context.call('settle', () => settle.call(store)),
  ]);
  const count = doomed.filter((entry) => isLive(context, entry, userId, now)).length;
  publish({ type: 'destroyed', store: kind, reason: 'revoke-user', detail: { count } });
  return count;
}

/** Destroys one session of a user by its public id; false when it is not a live session of theirs. */
export async function revokeSession(context: StoreContext, userId: string, id: string): Promise<boolean> {
  // The public id is the store key; a malformed one cannot name a record.
  if (!isWellFormedKey(id)) return false;
  const record = await context.get(id);
  if (record === null || !isLive(context, { key: id, meta: record.meta }, userId, context.clock.now())) {
    return false;
  }
  await revokeChain(context, id, 'revoke');
  return true;
}
