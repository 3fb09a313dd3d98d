/**
 * The store-backed session manager: token in the cookie, record in a `SessionStore`.
 */
import { SessionConflictError, SessionStateError, SessionStoreError } from '../errors.js';
import { backoff } from './backoff.js';
import { clearCookie, serializeCookie } from './cookie.js';
import { isWellFormedKey, randomToken, sealSuccessor, tokenKey } from './crypto.js';
import { deliver, describeError, observed, publish } from './diagnostics.js';
import { createStoreContext, type ManagerContext } from './lifecycle/context.js';
import { follow, load, MAX_SUCCESSOR_HOPS } from './lifecycle/load.js';
import { adopt, applyWritten, ensureToken } from './lifecycle/record-state.js';
import { destroy, isLive, makeRoom, revokeChain } from './lifecycle/revocation.js';
import { cookieMaxAge, loginMeta, touched } from './lifecycle/shared.js';
import type { SessionManagerOptions, StoreSessionManager } from './lifecycle/store-options.js';
import { heldBack } from './options.js';
import {
  checkUserId,
  dropCsrf,
  isDirty,
  mergedData,
  pendingPatch,
  readKey,
  type SessionDriver,
  type SessionState,
  stateOf,
} from './session.js';
import type { PatchResult, SessionMeta, SessionPatch, SessionRecord } from './store-contract.js';
import type { Session, SessionDataShape, UntypedSessionData, UserSessionInfo } from './types.js';
import { toStorable } from './values.js';

/** Attempts of a regenerate/login whose compare-and-set on the old record keeps losing to parallel writes. */
const MAX_REGENERATE_ATTEMPTS = 16;

/**
 * The lineage was revoked (logout, revoke-all) or regenerated out (a login elsewhere) by a parallel
 * request: this request's write is not applied and it ends anonymous. 409, not 500: the client raced
 * another request of its own, nothing is broken on the server (docs/decisions.md).
 */
const CAS_BACKOFF_CEILING_MS = 50;

function gone(message = 'the session was revoked or replaced by a parallel request'): SessionStateError {
  return new SessionStateError(message, 409);
}

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

  /**
   * Re-reads a record that a write found missing: a concurrent rotation moved it (follow it, whenever it
   * happened: this request loaded the token live) or it is gone. A read still showing the record live (a
   * cache that has not caught up) is adopted, so the caller retries its write.
   */
  async function relocate(state: SessionState, now: number): Promise<boolean> {
    const key = state.key;
    const token = state.token;
    if (key === undefined || token === undefined) return false;
    const record = await call('get', () => store.get(key));
    if (record !== null && !record.meta.successor) {
      state.base = record.data;
      state.version = record.version;
      state.meta = record.meta;
      return true;
    }
    const found = record === null ? null : await follow(context, token, record, now, true);
    if (found === null) {
      // Revoked, or replaced by a login/regenerate elsewhere: this request's changes are not applied and
      // it sends no Set-Cookie (the browser may hold the new token already, race 5).
      publish({ type: 'write-to-missing', id: key, store: kind });
      state.destroyed = true;
      state.clearCookie = false;
      state.changes.clear();
      return false;
    }
    const changes = new Map(state.changes);
    adopt(state, found.token, found.key, found.record);
    state.changes = changes;
    state.tokenChanged = true;
    return true;
  }

  /** Writes pending changes (or just a touch) with one patch; follows a concurrent rotation. */
  async function write(state: SessionState, now: number): Promise<void> {
    for (let attempt = 0; attempt < MAX_SUCCESSOR_HOPS; attempt++) {
      const key = state.key;
      if (key === undefined) return;
      const changed = isDirty(state);
      const patch = { ...pendingPatch(state), meta: touched(config, state.meta, now) };
      const result = await call('patch', () => store.patch(key, patch));
      if (result.status === 'ok') {
        applyWritten(state, result.record);
        const type = changed ? 'saved' : 'touched';
        if (observed(type)) deliver({ type, id: key, store: kind });
        return;
      }
      if (!(await relocate(state, now))) return;
    }
  }

  async function rotate(state: SessionState, now: number): Promise<void> {
    const oldKey = state.key;
    const oldToken = state.token;
    if (oldKey === undefined || oldToken === undefined) return;
    const token = randomToken();
    const key = tokenKey(token);
    const data = mergedData(state);
    const meta = {
      ...touched(config, state.meta, now),
      rotatedAt: now,
      rotations: (state.meta.rotations ?? 0) + 1,
    };
    const record: SessionRecord = { data, version: state.version + 1, meta };
    await call('set', () => store.set(key, record));
    const aliasMeta: SessionMeta = {
      ...state.meta,
      successor: { key, sealed: sealSuccessor(oldToken, token), graceUntil: now + config.graceMs },
      expiresAt: Math.min(state.meta.absoluteExpiresAt, now + config.graceMs + config.reuseMs),
    };
    const alias = { set: {}, delete: Object.keys(state.base), meta: aliasMeta, ifVersion: state.version };
    const result = await call('patch', () => store.patch(oldKey, alias));
    if (result.status === 'ok') {
      state.token = token;
      state.key = key;
      applyWritten(state, record);
      state.tokenChanged = true;
      publish({ type: 'rotated', id: key, store: kind, detail: { rotations: meta.rotations } });
      return;
    }
    // A concurrent request changed (or rotated) the session first: drop our copy, write normally.
    await call('destroy', () => store.destroy(key));
    await write(state, now);
  }

  /**
   * Moves the session to a new token (regenerate, login): (a) write the new record, (b) one compare-and-
   * set on the old record turning it into a dead alias that links the new key (never followable), so a
   * revocation of the old token reaches the new one. If (b) finds the old record gone, the lineage was
   * revoked meanwhile: the new record is removed again and nothing survives (SEC-20, race 1). `meta` is
   * the meta of the new record; `state.meta` stays the stored one until the move succeeded.
   */
  async function regenerate(state: SessionState, meta?: SessionMeta): Promise<void> {
    dropCsrf(state);
    if (state.isNew || state.key === undefined) {
      if (meta !== undefined) state.meta = meta;
      state.key = undefined;
      ensureToken(state);
      state.metaChanged = true;
      publish({ type: 'regenerated', store: kind });
      return;
    }
    for (let attempt = 1; attempt <= MAX_REGENERATE_ATTEMPTS; attempt++) {
      const now = clock.now();
      const oldKey = state.key;
      const token = randomToken();
      const key = tokenKey(token);
      const record: SessionRecord = {
        data: mergedData(state),
        version: state.version + 1,
        meta: touched(config, meta ?? state.meta, now),
      };
      await call('set', () => store.set(key, record));
      let result: PatchResult;
      try {
        result = await call('patch', () => store.patch(oldKey, retired(state, key, now)));
      } catch (error) {
        // SEC-50: never leave two live tokens behind a reported failure; the old one stays valid.
        await store.destroy(key).catch(() => undefined);
        throw error;
      }
      if (result.status === 'ok') {
        state.token = token;
        state.key = key;
        applyWritten(state, record);
        state.tokenChanged = true;
        publish({ type: 'regenerated', id: key, store: kind });
        return;
      }
      // The new record must not outlive a lost compare-and-set: nobody has its token, remove it now.
      await call('destroy', () => store.destroy(key));
      if (!(await reread(state, now))) {
        throw gone('the session was revoked or replaced while its token was being renewed');
      }
      if (attempt > 1) await backoff(attempt, CAS_BACKOFF_CEILING_MS);
    }
    throw new SessionConflictError('(regenerate)', MAX_REGENERATE_ATTEMPTS);
  }

  /** The patch that retires the old record of a regenerate: no data, a link nobody can follow. */
  function retired(state: SessionState, successor: string, now: number): SessionPatch {
    const meta: SessionMeta = {
      ...state.meta,
      successor: { key: successor, graceUntil: now, regenerated: true },
      // Kept through the window a revocation or a reuse report may still need the link.
      expiresAt: Math.min(state.meta.absoluteExpiresAt, now + config.graceMs + config.reuseMs),
    };
    return { set: {}, delete: Object.keys(state.base), meta, ifVersion: state.version };
  }

  /** Re-reads the record after a lost compare-and-set: adopts its fresh data, or follows a rotation. */
  async function reread(state: SessionState, now: number): Promise<boolean> {
    const key = state.key;
    if (key === undefined) return false;
    const current = await call('get', () => store.get(key));
    if (current === null || current.meta.successor) return relocate(state, now);
    state.base = current.data;
    state.version = current.version;
    state.meta = current.meta;
    return true;
  }

  const driver: SessionDriver = {
    now: () => clock.now(),
    assignId: ensureToken,
    async update(state, key, fn) {
      if (state.isNew) {
        const value = fn(readKey(state, key));
        state.changes.set(key, toStorable(key, value));
        return state.changes.get(key);
      }
      for (let attempt = 1; attempt <= config.updateAttempts; attempt++) {
        const now = clock.now();
        const sessionKey = state.key;
        if (sessionKey === undefined) break;
        const next = toStorable(key, fn(readKey(state, key)));
        const pending = pendingPatch(state);
        const patch = {
          set: { ...pending.set, [key]: next },
          delete: pending.delete.filter((k) => k !== key),
          meta: touched(config, state.meta, now),
          ifVersion: state.version,
        };
        const result = await call('patch', () => store.patch(sessionKey, patch));
        if (result.status === 'ok') {
          applyWritten(state, result.record);
          publish({ type: 'saved', id: sessionKey, store: kind });
          return next;
        }
        if (result.status === 'missing') {
          if (!(await relocate(state, now))) throw gone();
          continue;
        }
        const current = await call('get', () => store.get(sessionKey));
        if (current === null || current.meta.successor) {
          if (!(await relocate(state, now))) throw gone();
          continue;
        }
        state.base = current.data;
        state.version = current.version;
        state.meta = current.meta;
        await backoff(attempt, CAS_BACKOFF_CEILING_MS);
      }
      throw new SessionConflictError(key, config.updateAttempts);
    },
    regenerate: (state) => regenerate(state),
    async login(state, userId, options) {
      if (config.maxSessionsPerUser > 0) await makeRoom(context, userId, state.key);
      await regenerate(state, loginMeta(config, state.meta, userId, clock.now(), options));
    },
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
    if (state.rotationDue && !state.cookiesSent) await rotate(state, now);
    else if (isDirty(state) || touchDue) await write(state, now);
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
