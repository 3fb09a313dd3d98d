/**
 * Loading a cookie-only session: the request's cookies reassembled, opened and decoded, the
 * timestamps and the revocation hook checked. Anything refused yields a fresh session (and an event);
 * nothing here touches a store.
 */
import { SessionStoreError } from '../../errors.js';
import { readCookie, readCookiesWithPrefix } from '../cookie.js';
import { assembleValue, chunkSlots } from '../cookie-chunks.js';
import { tokenKey } from '../crypto.js';
import { deliver, describeError, observed, publish } from '../diagnostics.js';
import { transportFix } from '../options.js';
import { decodeSession, openValue } from '../sealed.js';
import { createSession } from '../session.js';
import { newState } from '../session-state.js';
import type { RequestInfo, Session, SessionDataShape } from '../types.js';
import { type CookieContext, KIND, publicId, sealedMeta } from './cookie-config.js';
import { expiryVerdict, publishRejected, reportExpired } from './shared.js';

/** Future-dated timestamps tolerated in a sealed session (clock skew between servers; Fernet, iron: 60 s). */
const FUTURE_SKEW_MS = 60_000;

/** A new session; `presented` chunk cookies of a refused one are cleared if nothing replaces them. */
function fresh<Data extends SessionDataShape>(
  { config, driver }: CookieContext,
  now: number,
  request: RequestInfo | undefined,
  presented: number,
): Session<Data> {
  const state = newState(sealedMeta(config, now, now, now + config.absoluteMs));
  state.clearCookie = presented > 0;
  state.cookieChunks.chunks = 0;
  state.cookieChunks.slots = presented;
  state.insecureTransport = transportFix(config, request);
  return createSession<Data>(state, driver);
}

/** Whether the `notBefore` hook revokes a session of `userId` issued at `issuedAt`. */
async function revoked(
  hook: (userId: string) => number | undefined | Promise<number | undefined>,
  userId: string,
  issuedAt: number,
): Promise<boolean> {
  let notBefore: number | undefined;
  try {
    notBefore = await hook(userId);
  } catch (error) {
    publish({ type: 'store-error', store: KIND, reason: 'notBefore', error: describeError(error) });
    throw new SessionStoreError(KIND, 'notBefore', { cause: error });
  }
  return typeof notBefore === 'number' && issuedAt < notBefore;
}

/** The session the request's cookies hold, or a fresh one when they hold none (or one refused). */
export async function loadCookieSession<Data extends SessionDataShape>(
  context: CookieContext,
  header: string | readonly string[] | undefined,
  request?: RequestInfo,
): Promise<Session<Data>> {
  const { config, invalidTokens } = context;
  const { clock, cookie, keyring } = config;
  const values = readCookie(header, cookie.name);
  const now = clock.now();
  if (values.length === 0) return fresh(context, now, request, 0);
  const chunkCookies = readCookiesWithPrefix(header, config.chunkPrefix);
  const slots = chunkSlots(cookie.name, chunkCookies);
  const first = values[0];
  if (first === undefined || (values.length > 1 && values.some((v) => v !== first))) {
    publishRejected(KIND, 'duplicate');
    return fresh(context, now, request, slots);
  }
  const assembled = assembleValue(cookie.name, first, chunkCookies, config.maxCookies);
  if (!assembled.ok) {
    publishRejected(KIND, assembled.reason);
    invalidTokens.record(request?.ip);
    return fresh(context, now, request, slots);
  }
  const opened = openValue(keyring, assembled.value);
  const sealed = opened.ok ? decodeSession(opened.plaintext) : null;
  if (!opened.ok || sealed === null) {
    publishRejected(KIND, opened.ok ? 'malformed' : opened.reason);
    invalidTokens.record(request?.ip);
    return fresh(context, now, request, slots);
  }
  // iat: when this identity was issued (creation, or the last login, which also restarts the
  // absolute timeout); a shorter configured timeout applies to sessions sealed before the change.
  const issuedAt = sealed.authenticatedAt ?? sealed.createdAt;
  const latest = Math.max(issuedAt, sealed.createdAt, sealed.lastSeenAt);
  if (latest > now + FUTURE_SKEW_MS) {
    publishRejected(KIND, 'malformed', undefined, { cause: 'future-timestamp' });
    return fresh(context, now, request, slots);
  }
  const absoluteExpiresAt = Math.min(sealed.absoluteExpiresAt, issuedAt + config.absoluteMs);
  const state = newState(sealedMeta(config, sealed.createdAt, sealed.lastSeenAt, absoluteExpiresAt));
  const expired = expiryVerdict(state.meta, now);
  if (expired !== null) {
    reportExpired(KIND, () => tokenKey(sealed.sid), expired);
    return fresh(context, now, request, slots);
  }
  const hook = config.notBefore;
  if (hook !== undefined && sealed.userId !== undefined && (await revoked(hook, sealed.userId, issuedAt))) {
    publishRejected(KIND, 'revoked', () => tokenKey(sealed.sid));
    return fresh(context, now, request, slots);
  }
  if (sealed.userId !== undefined) state.meta.userId = sealed.userId;
  if (sealed.authenticatedAt !== undefined) state.meta.authenticatedAt = sealed.authenticatedAt;
  if (sealed.persistent !== undefined) state.meta.persistent = sealed.persistent;
  state.token = sealed.sid;
  state.base = sealed.data;
  state.version = sealed.version;
  state.isNew = false;
  state.cookieChunks.chunks = assembled.chunks;
  state.cookieChunks.slots = Math.max(slots, assembled.chunks);
  state.cookieChunks.reseal = opened.key !== keyring.current;
  state.insecureTransport = transportFix(config, request);
  if (observed('loaded')) deliver({ type: 'loaded', id: publicId(state), store: KIND });
  return createSession<Data>(state, context.driver);
}
