/**
 * The store-backed session manager: token in the cookie, record in a `SessionStore`.
 */
import { SessionStateError, SessionStoreError } from '../errors.js';
import { clearCookie, serializeCookie } from './cookie.js';
import { isWellFormedKey } from './crypto.js';
import { deliver, describeError, observed, publish } from './diagnostics.js';
import { createStoreContext, type ManagerContext } from './lifecycle/context.js';
import { load } from './lifecycle/load.js';
import { applyWritten, ensureToken } from './lifecycle/record-state.js';
import { destroy, isLive, revokeChain } from './lifecycle/revocation.js';
import { login, regenerate, rotate } from './lifecycle/rotation.js';
import { cookieMaxAge } from './lifecycle/shared.js';
import type { SessionManagerOptions, StoreSessionManager } from './lifecycle/store-options.js';
import { update, write } from './lifecycle/write.js';
import { heldBack } from './options.js';
import {
  checkUserId,
  isDirty,
  mergedData,
  type SessionDriver,
  type SessionState,
  stateOf,
} from './session.js';
import type { SessionRecord } from './store-contract.js';
import type { Session, SessionDataShape, UntypedSessionData, UserSessionInfo } from './types.js';

export type { SessionManagerOptions, StoreSessionManager };

/**
 * Creates a session manager backed by a store.
 * @example
 * import { createSessionManager } from 'sessionkit';
 * import { createSqliteStore } from 'sessionkit/stores/sqlite';
 * const sessions = createSessionManager<{ cart: string[] }>({ store: createSqliteStore('data/sessions.db') });
 */
export function createSessionManager<Data extends SessionDataShape = UntypedSessionData>(
  options: SessionManagerOptions,
): StoreSessionManager<Data> {
  const base = createStoreContext(options);
  const { config, store, clock, kind, call } = base;
  const { cookie } = config;

  /** After a migrated session's first commit: the legacy record destroyed, its cookie cleared. */
  async function retireLegacy(state: SessionState): Promise<string[]> {
    const handle = context.legacyOf.get(state);
    if (handle === undefined) return [];
    context.legacyOf.delete(state);
    try {
      return await handle.retire();
    } catch (error) {
      // The sessionkit session is stored and its cookie set: the next request no longer needs the legacy one.
      publish({
        type: 'store-error',
        store: config.migration?.source ?? '',
        reason: 'retire',
        error: describeError(error),
      });
      return [];
    }
  }

  const driver: SessionDriver = {
    now: () => clock.now(),
    assignId: ensureToken,
    update: (state, key, fn) => update(context, state, key, fn),
    regenerate: (state) => regenerate(context, state),
    login: (state, userId, options) => login(context, state, userId, options),
    destroy: (state) => destroy(context, state),
  };

  function sessionCookie(state: SessionState, now: number): string {
    const age = cookieMaxAge(cookie.maxAgeSeconds, state.meta, now);
    return serializeCookie(cookie, cookie.name, state.token ?? '', age);
  }

  function cookiesFor(state: SessionState, now: number, touchedNow: boolean): string[] {
    if (state.destroyed) return state.clearCookie ? [clearCookie(cookie, cookie.name)] : [];
    const changed = state.tokenChanged || state.cookieChanged;
    if (state.insecureTransport && (changed || touchedNow)) {
      heldBack(kind, state.insecureTransport);
      return [];
    }
    const persistent = cookieMaxAge(cookie.maxAgeSeconds, state.meta, now) !== undefined;
    if (!state.isNew && (changed || (touchedNow && persistent))) {
      return [sessionCookie(state, now)];
    }
    return state.clearCookie ? [clearCookie(cookie, cookie.name)] : [];
  }

  async function commit(session: Session<Data>): Promise<string[]> {
    const cookies = await commitState(stateOf(session));
    return context.legacyOf.has(stateOf(session))
      ? [...cookies, ...(await retireLegacy(stateOf(session)))]
      : cookies;
  }

  async function commitState(state: SessionState): Promise<string[]> {
    if (context.degraded.has(state)) {
      // The cookie the request carried may name a live session: storing this one would replace it (SEC-48).
      if (isDirty(state)) throw new SessionStoreError(kind, 'get');
      return [];
    }
    const now = clock.now();
    if (state.destroyed) return cookiesFor(state, now, false);
    if (state.isNew) {
      // A new session that nothing was written to costs nothing; one whose cookie missed the
      // already-sent headers is not stored (the browser could never present it).
      if (!isDirty(state) || (state.cookiesSent && !state.tokenChanged)) return cookiesFor(state, now, false);
      if (state.insecureTransport) return cookiesFor({ ...state, tokenChanged: true }, now, false);
      const key = ensureToken(state);
      const record: SessionRecord = { data: mergedData(state), version: 1, meta: state.meta };
      await call('set', () => store.set(key, record));
      applyWritten(state, record);
      state.isNew = false;
      if (observed('created')) deliver({ type: 'created', id: key, store: kind });
      return cookiesFor(state, now, false);
    }
    const touchDue = now - state.meta.lastSeenAt >= config.touchMs;
    if (state.rotationDue && !state.cookiesSent) await rotate(context, state, now);
    else if (isDirty(state) || touchDue) await write(context, state, now);
    return cookiesFor(state, now, touchDue);
  }

  function cookiesNow(session: Session<Data>): string[] {
    const state = stateOf(session);
    if (context.degraded.has(state)) return [];
    const now = clock.now();
    if (state.isNew && isDirty(state) && !state.destroyed) ensureToken(state);
    state.cookiesSent = true;
    if (state.isNew && state.tokenChanged && !state.destroyed) {
      if (!state.insecureTransport) return [sessionCookie(state, now)];
      heldBack(kind, state.insecureTransport);
      return [];
    }
    return cookiesFor(state, now, false);
  }

  async function listUserSessions(userId: string, current?: Session<Data>): Promise<UserSessionInfo[]> {
    checkUserId(userId);
    const list = store.listByUser;
    if (list === undefined) throw new SessionStateError(`the ${kind} store has no per-user index`);
    const entries = await call('listByUser', () => list.call(store, userId));
    const now = clock.now();
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
  async function revokeUserSessions(
    userId: string,
    opts?: { except?: Session<Data> | string },
  ): Promise<number> {
    checkUserId(userId);
    const list = store.listByUser;
    if (list === undefined) throw new SessionStateError(`the ${kind} store has no per-user index`);
    const except = opts?.except;
    const exceptKey =
      typeof except === 'string' ? except : except === undefined ? undefined : stateOf(except).key;
    const entries = await call('listByUser', () => list.call(store, userId));
    const now = clock.now();
    const doomed = entries.filter(
      ({ key, meta }) => key !== exceptKey && meta.userId === userId && meta.audience === config.audience,
    );
    // A session a concurrent revocation removed before the listing is not listed, yet may still be
    // served from a process-local cache until that revocation resolves: settle outwaits it.
    const settle = store.settle;
    await Promise.all([
      ...doomed.map(({ key }) => revokeChain(context, key, 'revoke-user', exceptKey)),
      settle && call('settle', () => settle.call(store)),
    ]);
    const count = doomed.filter((entry) => isLive(context, entry, userId, now)).length;
    publish({ type: 'destroyed', store: kind, reason: 'revoke-user', detail: { count } });
    return count;
  }

  async function revokeSession(userId: string, id: string): Promise<boolean> {
    // The public id is the store key; a malformed one cannot name a record.
    if (!isWellFormedKey(id)) return false;
    const record = await call('get', () => store.get(id));
    if (record === null || !isLive(context, { key: id, meta: record.meta }, userId, clock.now()))
      return false;
    await revokeChain(context, id, 'revoke');
    return true;
  }

  const context: ManagerContext = Object.assign(base, { driver });
  return {
    cookieName: cookie.name,
    revokeSession,
    storeKind: kind,
    store,
    load: (header, request) => load<Data>(context, header, request),
    commit,
    cookiesNow,
    listUserSessions,
    revokeUserSessions,
    close: async () => {
      await store.close?.();
    },
  };
}
