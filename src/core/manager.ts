/**
 * The store-backed session manager: token in the cookie, record in a `SessionStore`.
 */
import { SessionConflictError, SessionLimitError, SessionStateError, SessionStoreError } from '../errors.js';
import { backoff } from './backoff.js';
import { bindingMismatch } from './binding.js';
import { clearCookie, readCookie, serializeCookie } from './cookie.js';
import {
  isWellFormedKey,
  isWellFormedToken,
  openSuccessor,
  randomToken,
  sealSuccessor,
  tokenKey,
} from './crypto.js';
import { withinDeadline } from './deadline.js';
import { deliver, describeError, observed, publish, type RejectReason } from './diagnostics.js';
import { createInvalidTokenMonitor } from './invalid-tokens.js';
import { cookieMaxAge, expiryVerdict, loginMeta, markDestroyed, touched } from './lifecycle/shared.js';
import {
  freshMeta,
  resolve,
  type SessionManagerOptions,
  type StoreSessionManager,
} from './lifecycle/store-options.js';
import { createMigrator, type LegacyHandle, type Migrated } from './migration.js';
import { heldBack, transportFix } from './options.js';
import {
  checkUserId,
  createSession,
  dropCsrf,
  isDirty,
  mergedData,
  newState,
  pendingPatch,
  readKey,
  type SessionDriver,
  type SessionState,
  stateOf,
} from './session.js';
import type {
  PatchResult,
  SessionEntry,
  SessionMeta,
  SessionPatch,
  SessionRecord,
} from './store-contract.js';
import type { RequestInfo, Session, SessionDataShape, UntypedSessionData, UserSessionInfo } from './types.js';
import { toStorable } from './values.js';

const MAX_SUCCESSOR_HOPS = 4;
/** Most records one revocation destroys along a lineage's successor links before it gives up (and says so). */
const MAX_REVOKE_HOPS = 8;
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
  const config = resolve(options);
  const { store, clock, cookie } = config;
  const kind = store.kind;

  /** `error` of a store `operation` as ERR_SESSION_STORE, published as a `store-error` event. */
  function storeFailure(operation: string, error: unknown): SessionStoreError {
    publish({ type: 'store-error', store: kind, reason: operation, error: describeError(error) });
    return error instanceof SessionStoreError
      ? error
      : new SessionStoreError(kind, operation, { cause: error });
  }

  // One rejection handler per operation name, made on first use: a store call allocates no closure
  // and no async frame of its own on top of the store's promise.
  const rethrowAs = new Map<string, (error: unknown) => never>();
  function rethrow(operation: string): (error: unknown) => never {
    let handler = rethrowAs.get(operation);
    if (handler === undefined) {
      handler = (error) => {
        throw storeFailure(operation, error);
      };
      rethrowAs.set(operation, handler);
    }
    return handler;
  }

  /** Runs a store call within `storeTimeoutMs` (when set); a failure rejects with ERR_SESSION_STORE. */
  function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      const pending =
        config.storeTimeoutMs > 0 ? withinDeadline(kind, operation, config.storeTimeoutMs, run) : run();
      return Promise.resolve(pending).then(undefined, rethrow(operation));
    } catch (error) {
      return Promise.reject(storeFailure(operation, error));
    }
  }

  function reject(reason: RejectReason, id?: string): void {
    publish(
      id === undefined
        ? { type: 'rejected', reason, store: kind }
        : { type: 'rejected', reason, store: kind, id },
    );
  }

  function ensureToken(state: SessionState): string {
    if (state.key === undefined) {
      state.token = randomToken();
      state.key = tokenKey(state.token);
      state.tokenChanged = true;
    }
    return state.key;
  }

  function adopt(state: SessionState, token: string, key: string, record: SessionRecord): void {
    state.token = token;
    state.key = key;
    state.base = record.data;
    state.version = record.version;
    state.meta = record.meta;
    state.isNew = false;
  }

  function applyWritten(state: SessionState, record: SessionRecord): void {
    state.base = record.data;
    state.version = record.version;
    state.meta = record.meta;
    state.changes.clear();
    state.metaChanged = false;
  }

  /**
   * Follows a rotated-out token to its live successor within the grace window. `inFlight`: the token
   * was live when this request loaded it, so every link on the way was made after that (a rotation by a
   * parallel request), never a reuse of an old token: followed whatever the grace window says.
   */
  async function follow(
    token: string,
    record: SessionRecord,
    now: number,
    inFlight = false,
  ): Promise<{ token: string; key: string; record: SessionRecord } | null> {
    let current = { token, record };
    for (let hop = 0; hop < MAX_SUCCESSOR_HOPS; hop++) {
      const link = current.record.meta.successor;
      if (link === undefined)
        return { token: current.token, key: tokenKey(current.token), record: current.record };
      // A regenerated-out token is never followed (fixation): its link has no sealed successor.
      if (link.regenerated === true || link.sealed === undefined) return null;
      if (!inFlight && now > link.graceUntil) {
        publish({ type: 'reuse-detected', id: link.key, store: kind });
        if (config.revokeOnReuse) await revokeChain(link.key, 'reuse');
        return null;
      }
      const next = openSuccessor(current.token, link.sealed);
      if (next === null) return null;
      const nextRecord = await call('get', () => store.get(link.key));
      if (nextRecord === null) return null;
      current = { token: next, record: nextRecord };
    }
    return null;
  }

  /**
   * Revokes a lineage from `key` on: each destroy atomically removes a record and names its successor,
   * which is destroyed next (one round trip when there is none). A successor written by a rotation or
   * regenerate racing this call is either never linked (its step finds the record missing and creates
   * nothing) or linked before the destroy, and then reached here.
   */
  async function revokeChain(key: string, reason?: string, spare?: string): Promise<void> {
    let next: string | null = key;
    for (let hop = 0; next !== null; hop++) {
      if (hop === MAX_REVOKE_HOPS) {
        publish({ type: 'store-error', store: kind, reason: 'revoke-hops', detail: { hops: hop } });
        return;
      }
      const at: string = next;
      const { successor } = await call('destroy', () => store.destroy(at));
      publish(
        reason === undefined
          ? { type: 'destroyed', id: at, store: kind }
          : { type: 'destroyed', id: at, store: kind, reason },
      );
      next = successor === spare ? null : successor;
    }
  }

  /** Why a record read at load is refused before any successor is followed (no store call). */
  function refusal(record: SessionRecord | null): RejectReason | undefined {
    if (record === null) return 'unknown';
    // Another app sharing the store issued this token (race 6): never its session here.
    if (record.meta.audience !== config.audience) return 'audience';
    if (record.meta.successor?.regenerated === true) return 'regenerated';
    return undefined;
  }

  function fresh(now: number, request: RequestInfo | undefined, presented: boolean): Session<Data> {
    const state = newState(freshMeta(config, now, request));
    state.clearCookie = presented;
    state.insecureTransport = transportFix(config, request);
    return createSession<Data>(state, driver);
  }

  async function load(
    header: string | readonly string[] | undefined,
    request?: RequestInfo,
  ): Promise<Session<Data>> {
    const values = readCookie(header, cookie.name);
    const now = clock.now();
    if (values.length === 0) return (await migrated(header, request, now)) ?? fresh(now, request, false);
    const token = values[0];
    if (values.some((v) => v !== token)) {
      reject('duplicate');
      return fresh(now, request, true);
    }
    if (token === undefined || !isWellFormedToken(token)) {
      reject('malformed');
      invalidTokens.record(request?.ip);
      return fresh(now, request, false);
    }
    const key = tokenKey(token);
    let found: { token: string; key: string; record: SessionRecord } | null;
    let reason: RejectReason | undefined;
    try {
      const record = await call('get', () => store.get(key));
      reason = refusal(record);
      found = record === null || reason !== undefined ? null : await follow(token, record, now);
      if (found === null) reason ??= record?.meta.successor ? 'reused' : 'unknown';
    } catch (error) {
      if (!config.anonymousOnError) throw error;
      // Degraded: a fresh session that never clears (nor, at commit, replaces) the user's cookie.
      const session = fresh(now, request, false);
      degraded.add(stateOf(session));
      return session;
    }
    // A refused cookie is never cleared (only duplicates are, SEC-15): by the time this response arrives
    // the browser may hold a newer cookie, set by a login, rotation or new session answered in parallel,
    // and clearing by name would delete that one (race 5). The next session cookie replaces it.
    if (found === null) {
      reject(reason ?? 'unknown');
      if (reason === 'unknown' || reason === 'reused') invalidTokens.record(request?.ip);
      return fresh(now, request, false);
    }
    return opened(found, now, request, found.token !== token);
  }

  /** The session a live lineage's record opens, once its expiry and client binding are checked. */
  async function opened(
    found: { token: string; key: string; record: SessionRecord },
    now: number,
    request: RequestInfo | undefined,
    tokenChanged: boolean,
  ): Promise<Session<Data>> {
    const { meta } = found.record;
    const expired = expiryVerdict(meta, now);
    if (expired !== null) {
      publish({ type: 'expired', id: found.key, reason: expired, store: kind });
      reject(expired, found.key);
      const deadKey = found.key;
      // Cleanup only: the core already refuses the record; a failure here changes nothing.
      store.destroy(deadKey).catch(() => undefined);
      return fresh(now, request, false);
    }
    if (bindingMismatch(config.binding, meta, request)) {
      publish({
        type: 'binding-mismatch',
        id: found.key,
        store: kind,
        detail: { destroy: config.binding.destroy },
      });
      if (config.binding.destroy) {
        await revokeChain(found.key, 'binding');
        reject('binding', found.key);
        return fresh(now, request, true);
      }
    }
    const state = newState(meta);
    adopt(state, found.token, found.key, found.record);
    state.tokenChanged = tokenChanged;
    state.insecureTransport = transportFix(config, request);
    state.rotationDue = config.rotateMs > 0 && now - (meta.rotatedAt ?? meta.createdAt) >= config.rotateMs;
    if (observed('loaded')) deliver({ type: 'loaded', id: found.key, store: kind });
    return createSession<Data>(state, driver);
  }

  const migration = config.migration;
  const migrator =
    migration &&
    createMigrator(migration.source, {
      store,
      call,
      graceMs: config.graceMs,
      freshMeta: (now, request) => freshMeta(config, now, request),
    });
  /** Sessions migrated in this request, with the legacy session to retire at their commit. */
  const legacyOf = new WeakMap<SessionState, LegacyHandle>();

  /**
   * A request without a sessionkit cookie: the legacy session its cookies name, taken over (`migrate`).
   * The migrated session is a lineage like any other: its record is refused, followed and opened as a
   * presented token's would be, so a session logged out, regenerated or revoked since is never reopened.
   */
  async function migrated(
    header: string | readonly string[] | undefined,
    request: RequestInfo | undefined,
    now: number,
  ): Promise<Session<Data> | null> {
    const handle = migration?.find(header, request) ?? null;
    if (handle === null || migrator === undefined) return null;
    let claimed: Migrated | null;
    let reason: RejectReason | undefined;
    let found: Migrated | null;
    try {
      claimed = await migrator(handle, now, request);
      reason = claimed === null ? undefined : refusal(claimed.record);
      found =
        claimed === null || reason !== undefined ? null : await follow(claimed.token, claimed.record, now);
    } catch (error) {
      // No sessionkit cookie was presented, so an anonymous session replaces nothing; the legacy one stays.
      if (!config.anonymousOnError) throw error;
      return null;
    }
    if (found === null) {
      if (claimed !== null) reject(reason ?? 'unknown');
      return null;
    }
    const session = await opened(found, now, request, true);
    const state = stateOf(session);
    if (state.isNew) return session;
    legacyOf.set(state, handle);
    publish({ type: 'migrated', id: found.key, store: kind, reason: migration?.source ?? '' });
    return session;
  }

  /** After a migrated session's first commit: the legacy record destroyed, its cookie cleared. */
  async function retireLegacy(state: SessionState): Promise<string[]> {
    const handle = legacyOf.get(state);
    if (handle === undefined) return [];
    legacyOf.delete(state);
    try {
      return await handle.retire();
    } catch (error) {
      // The sessionkit session is stored and its cookie set: the next request no longer needs the legacy one.
      publish({
        type: 'store-error',
        store: migration?.source ?? '',
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
    const found = record === null ? null : await follow(token, record, now, true);
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

  /** Enforces `maxSessionsPerUser` before a login adds one more session (SEC-22). */
  async function makeRoom(userId: string, currentKey: string | undefined): Promise<void> {
    const list = store.listByUser;
    if (list === undefined)
      throw new SessionStateError(`maxSessionsPerUser needs a per-user index; the ${kind} store has none`);
    const now = clock.now();
    const live = (await call('listByUser', () => list.call(store, userId)))
      .filter((entry) => entry.key !== currentKey && isLive(entry, userId, now))
      .sort((a, b) => a.meta.lastSeenAt - b.meta.lastSeenAt);
    const excess = live.length - config.maxSessionsPerUser + 1;
    if (excess <= 0) return;
    if (config.rejectOverLimit) throw new SessionLimitError(config.maxSessionsPerUser);
    for (const { key } of live.slice(0, excess)) await revokeChain(key, 'session-limit');
  }

  /** A listed entry that is a live session of `userId` issued for this app (not an alias, not expired). */
  function isLive({ meta }: SessionEntry, userId: string, now: number): boolean {
    return (
      !meta.successor &&
      meta.userId === userId &&
      meta.audience === config.audience &&
      now < Math.min(meta.idleExpiresAt, meta.absoluteExpiresAt)
    );
  }

  const invalidTokens = createInvalidTokenMonitor(options.invalidTokens, clock);
  /** Sessions served while the store failed (onStoreError "anonymous"): never stored, never a cookie. */
  const degraded = new WeakSet<SessionState>();

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
      if (config.maxSessionsPerUser > 0) await makeRoom(userId, state.key);
      await regenerate(state, loginMeta(config, state.meta, userId, clock.now(), options));
    },
    async destroy(state) {
      const key = state.key;
      if (!state.isNew && key !== undefined) await revokeChain(key);
      markDestroyed(state);
    },
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
    return legacyOf.has(stateOf(session)) ? [...cookies, ...(await retireLegacy(stateOf(session)))] : cookies;
  }

  async function commitState(state: SessionState): Promise<string[]> {
    if (degraded.has(state)) {
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
    if (degraded.has(state)) return [];
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
      .filter((entry) => isLive(entry, userId, now))
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
      ...doomed.map(({ key }) => revokeChain(key, 'revoke-user', exceptKey)),
      settle && call('settle', () => settle.call(store)),
    ]);
    const count = doomed.filter((entry) => isLive(entry, userId, now)).length;
    publish({ type: 'destroyed', store: kind, reason: 'revoke-user', detail: { count } });
    return count;
  }

  async function revokeSession(userId: string, id: string): Promise<boolean> {
    // The public id is the store key; a malformed one cannot name a record.
    if (!isWellFormedKey(id)) return false;
    const record = await call('get', () => store.get(id));
    if (record === null || !isLive({ key: id, meta: record.meta }, userId, clock.now())) return false;
    await revokeChain(id, 'revoke');
    return true;
  }

  return {
    cookieName: cookie.name,
    revokeSession,
    storeKind: kind,
    store,
    load,
    commit,
    cookiesNow,
    listUserSessions,
    revokeUserSessions,
    close: async () => {
      await store.close?.();
    },
  };
}
