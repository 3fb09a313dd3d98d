/**
 * The lifecycle rules both managers (store-backed and cookie-only) share: the expiry verdict and how
 * it is reported, the meta a login resets, a local update, the state a destroy leaves, the session
 * cookie's Max-Age and its `Set-Cookie` value.
 */

import { type ResolvedCookie, serializeCookie } from '../cookie.js';
import { deliver, observed, type RejectReason, type SessionEvent } from '../diagnostics.js';
import { lifetimeMeta, type ResolvedLifetimes } from '../options.js';
import { readKey, type SessionState } from '../session-state.js';
import type { SessionMeta } from '../store-contract.js';
import type { LoginOptions } from '../types.js';
import { toStorable } from '../values.js';

/** Why a session is dead at `now`, or null while it lives (absolute expiry wins over idle). */
export function expiryVerdict(
  meta: Pick<SessionMeta, 'absoluteExpiresAt' | 'idleExpiresAt'>,
  now: number,
): 'expired-absolute' | 'expired-idle' | null {
  if (now >= meta.absoluteExpiresAt) return 'expired-absolute';
  return now >= meta.idleExpiresAt ? 'expired-idle' : null;
}

/**
 * The public id of an event: a string, or a function when it costs a hash (called only when someone
 * subscribed, so an unobserved read computes nothing for its events).
 */
export type EventId = string | (() => string);

function idOf(id: EventId): string {
  return typeof id === 'string' ? id : id();
}

/** Reports a session refused at load as dead: an `expired` event, then the `rejected` one. */
export function reportExpired(
  store: string,
  id: EventId,
  verdict: 'expired-absolute' | 'expired-idle',
): void {
  const expired = observed('expired', verdict);
  const rejected = observed('rejected', verdict);
  if (!expired && !rejected) return;
  const known = idOf(id);
  if (expired) deliver({ type: 'expired', id: known, reason: verdict, store });
  if (rejected) deliver({ type: 'rejected', reason: verdict, store, id: known });
}

/** Publishes a `rejected` event for a presented cookie that did not yield its session. */
export function publishRejected(
  store: string,
  reason: RejectReason,
  id?: EventId,
  detail?: Record<string, string>,
): void {
  if (!observed('rejected', reason)) return;
  const event: SessionEvent = { type: 'rejected', reason, store };
  if (id !== undefined) event.id = idOf(id);
  if (detail !== undefined) event.detail = detail;
  deliver(event);
}

/** `meta` with its idle expiry extended from `now`. */
export function touched(lifetimes: ResolvedLifetimes, meta: SessionMeta, now: number): SessionMeta {
  return { ...meta, ...lifetimeMeta(lifetimes, meta.createdAt, now, meta.absoluteExpiresAt) };
}

/**
 * The meta after a successful login at `now`: the user and the authentication time recorded, and both
 * timeouts restarted (NIST 800-63B-4 §5.2: a (re)authentication resets them).
 */
export function loginMeta(
  lifetimes: ResolvedLifetimes,
  meta: SessionMeta,
  userId: string,
  now: number,
  options?: LoginOptions,
): SessionMeta {
  const next: SessionMeta = {
    ...meta,
    ...lifetimeMeta(lifetimes, meta.createdAt, now, now + lifetimes.absoluteMs),
    userId,
    authenticatedAt: now,
  };
  if (options?.remember !== undefined) next.persistent = options.remember;
  return next;
}

/** Longest Max-Age browsers keep (RFC 6265bis §5.5: 400 days). */
const MAX_AGE_CAP_SECONDS = 400 * 24 * 3600;

/**
 * The cookie's Max-Age in seconds for `meta` at `now`, or `undefined` for a browser-session cookie: a
 * session's own choice (`persistent`) wins over `cookie.maxAge`; a persistent cookie never outlives
 * the absolute expiry (nor 400 days).
 */
export function cookieMaxAge(
  defaultMaxAge: number | undefined,
  meta: SessionMeta,
  now: number,
): number | undefined {
  if (meta.persistent === false || (meta.persistent === undefined && defaultMaxAge === undefined))
    return undefined;
  const remaining = (meta.absoluteExpiresAt - now) / 1000;
  return Math.min(defaultMaxAge ?? MAX_AGE_CAP_SECONDS, remaining, MAX_AGE_CAP_SECONDS);
}

/**
 * The `Set-Cookie` value carrying a session's cookie `name` = `value`: persistent (Max-Age) or a
 * browser-session cookie as `cookieMaxAge` decides for its meta at `now`.
 */
export function sessionCookie(
  cookie: ResolvedCookie,
  name: string,
  value: string,
  meta: SessionMeta,
  now: number,
): string {
  return serializeCookie(cookie, name, value, cookieMaxAge(cookie.maxAgeSeconds, meta, now));
}

/**
 * Applies `session.update()` to the pending changes, where nothing can race it (a session not stored
 * yet, or a cookie-only one: it lives in this request's cookie). Resolves to the stored value.
 */
export function updateLocally(state: SessionState, key: string, fn: (current: unknown) => unknown): unknown {
  const value = toStorable(key, fn(readKey(state, key)));
  state.changes.set(key, value);
  return value;
}

/** Records a session's remember-me choice: written with the next commit, and its cookie re-sent. */
export function markPersistent(state: SessionState, persistent: boolean): void {
  if (state.meta.persistent === persistent) return;
  state.meta = { ...state.meta, persistent };
  state.metaChanged = true;
  state.cookieChanged = true;
}

/** Marks the session destroyed in this request: no more writes, and a stored one's cookie is cleared. */
export function markDestroyed(state: SessionState): void {
  state.clearCookie = state.clearCookie || !state.isNew;
  state.destroyed = true;
  state.changes.clear();
}
