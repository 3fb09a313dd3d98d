/**
 * Committing a store-backed session after the handler: what to write (nothing, a new record, a patch
 * or a touch, a rotation), then the `Set-Cookie` values; for a migrated session, the legacy one
 * retired. `cookiesNow` answers for a response whose headers go out before the commit.
 */
import { SessionStoreError } from '../../errors.js';
import { clearCookie } from '../cookie.js';
import { deliver, describeError, observed, publish } from '../diagnostics.js';
import { heldBack } from '../options.js';
import { isDirty, mergedData, type SessionState, stateOf } from '../session.js';
import type { SessionRecord } from '../store-contract.js';
import type { Session, SessionDataShape } from '../types.js';
import type { StoreContext } from './context.js';
import { applyWritten, ensureToken } from './record-state.js';
import { rotate } from './rotation.js';
import { cookieMaxAge, sessionCookie } from './shared.js';
import { write } from './write.js';

/** Writes what the request changed (or rotates, or touches) and resolves to the `Set-Cookie` values. */
export function commit<Data extends SessionDataShape>(
  context: StoreContext,
  session: Session<Data>,
): Promise<string[]> {
  let state: SessionState;
  try {
    state = stateOf(session);
  } catch (error) {
    return Promise.reject(error);
  }
  // Not async itself: the common case (no legacy cookie to retire) hands back commitState's promise
  // without another frame and promise per request.
  if (!context.legacyOf.has(state)) return commitState(context, state);
  return commitState(context, state).then(async (cookies) => [
    ...cookies,
    ...(await retireLegacy(context, state)),
  ]);
}

async function commitState(context: StoreContext, state: SessionState): Promise<string[]> {
  const { config, kind, store } = context;
  if (context.degraded.has(state)) {
    // The cookie the request carried may name a live session: storing this one would replace it (SEC-48).
    if (isDirty(state)) throw new SessionStoreError(kind, 'get');
    return [];
  }
  const now = context.clock.now();
  if (state.destroyed) return cookiesFor(context, state, now, false);
  if (state.isNew) {
    // A new session that nothing was written to costs nothing; one whose cookie missed the
    // already-sent headers is not stored (the browser could never present it).
    if (!isDirty(state) || (state.cookiesSent && !state.tokenChanged))
      return cookiesFor(context, state, now, false);
    if (state.insecureTransport) return cookiesFor(context, { ...state, tokenChanged: true }, now, false);
    const key = ensureToken(state);
    const record: SessionRecord = { data: mergedData(state), version: 1, meta: state.meta };
    await context.call('set', () => store.set(key, record));
    applyWritten(state, record);
    state.isNew = false;
    if (observed('created')) deliver({ type: 'created', id: key, store: kind });
    return cookiesFor(context, state, now, false);
  }
  const touchDue = now - state.meta.lastSeenAt >= config.touchMs;
  if (state.rotationDue && !state.cookiesSent) await rotate(context, state, now);
  else if (isDirty(state) || touchDue) await write(context, state, now);
  return cookiesFor(context, state, now, touchDue);
}

/** The session's `Set-Cookie` values for headers sent before the commit (streaming responses). */
export function cookiesNow<Data extends SessionDataShape>(
  context: StoreContext,
  session: Session<Data>,
): string[] {
  const state = stateOf(session);
  if (context.degraded.has(state)) return [];
  const now = context.clock.now();
  if (state.isNew && isDirty(state) && !state.destroyed) ensureToken(state);
  state.cookiesSent = true;
  if (state.isNew && state.tokenChanged && !state.destroyed) {
    if (!state.insecureTransport) return [storeCookie(context, state, now)];
    heldBack(context.kind, state.insecureTransport);
    return [];
  }
  return cookiesFor(context, state, now, false);
}

function storeCookie(context: StoreContext, state: SessionState, now: number): string {
  const { cookie } = context.config;
  return sessionCookie(cookie, cookie.name, state.token ?? '', state.meta, now);
}

function cookiesFor(context: StoreContext, state: SessionState, now: number, touchedNow: boolean): string[] {
  const { cookie } = context.config;
  if (state.destroyed) return state.clearCookie ? [clearCookie(cookie, cookie.name)] : [];
  const changed = state.tokenChanged || state.cookieChanged;
  if (state.insecureTransport && (changed || touchedNow)) {
    heldBack(context.kind, state.insecureTransport);
    return [];
  }
  const persistent = cookieMaxAge(cookie.maxAgeSeconds, state.meta, now) !== undefined;
  if (!state.isNew && (changed || (touchedNow && persistent))) {
    return [storeCookie(context, state, now)];
  }
  return state.clearCookie ? [clearCookie(cookie, cookie.name)] : [];
}

/** After a migrated session's first commit: the legacy record destroyed, its cookie cleared. */
async function retireLegacy(context: StoreContext, state: SessionState): Promise<string[]> {
  const handle = context.legacyOf.get(state);
  if (handle === undefined) return [];
  context.legacyOf.delete(state);
  try {
    return await handle.retire();
  } catch (error) {
    // The sessionkit session is stored and its cookie set: the next request no longer needs the legacy one.
    publish({
      type: 'store-error',
      store: context.config.migration?.source ?? '',
      reason: 'retire',
      error: describeError(error),
    });
    return [];
  }
}
