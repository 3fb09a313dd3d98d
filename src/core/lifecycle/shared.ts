/**
 * The lifecycle rules both managers (store-backed and cookie-only) share: the expiry verdict, the
 * meta a login resets, the state a destroy leaves.
 */

import { lifetimeMeta, type ResolvedLifetimes } from '../options.js';
import type { SessionState } from '../session.js';
import type { SessionMeta } from '../store-contract.js';

/** Why a session is dead at `now`, or null while it lives (absolute expiry wins over idle). */
export function expiryVerdict(
  meta: Pick<SessionMeta, 'absoluteExpiresAt' | 'idleExpiresAt'>,
  now: number,
): 'expired-absolute' | 'expired-idle' | null {
  if (now >= meta.absoluteExpiresAt) return 'expired-absolute';
  return now >= meta.idleExpiresAt ? 'expired-idle' : null;
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
): SessionMeta {
  return {
    ...meta,
    ...lifetimeMeta(lifetimes, meta.createdAt, now, now + lifetimes.absoluteMs),
    userId,
    authenticatedAt: now,
  };
}

/** Marks the session destroyed in this request: no more writes, and a stored one's cookie is cleared. */
export function markDestroyed(state: SessionState): void {
  state.clearCookie = state.clearCookie || !state.isNew;
  state.destroyed = true;
  state.changes.clear();
}
