/**
 * Committing a cookie-only session: seal it into its cookies when it changed or a touch is due,
 * clear the chunk cookies a shorter value leaves behind, and count the seals per key (SEC-38).
 */
import { SessionTooLargeError } from '../../errors.js';
import { clearCookie, type ResolvedCookie } from '../cookie.js';
import { chunkName, splitValue } from '../cookie-chunks.js';
import { randomString } from '../crypto.js';
import { deliver, observed, publish } from '../diagnostics.js';
import { heldBack } from '../options.js';
import { encodeSession, type SealedSession, sealedLength, sealValue } from '../sealed.js';
import { isDirty, mergedData, type SessionState } from '../session-state.js';
import {
  type CookieConfig,
  type CookieContext,
  KIND,
  publicId,
  SID_BYTES,
  sealedMeta,
} from './cookie-config.js';
import { sessionCookie } from './shared.js';

/** The `Set-Cookie` values that clear chunk cookies `from` … `to - 1`. */
function clears(cookie: ResolvedCookie, from: number, to: number): string[] {
  const out: string[] = [];
  for (let index = from; index < to; index++) out.push(clearCookie(cookie, chunkName(cookie.name, index)));
  return out;
}

function countSeal(config: CookieConfig, usage: Map<string, number>): void {
  const { kid } = config.keyring.current;
  const count = (usage.get(kid) ?? 0) + 1;
  usage.set(kid, count);
  if (count !== config.usageThreshold + 1) return;
  const detail = { kid, count, threshold: config.usageThreshold };
  publish({ type: 'key-usage', store: KIND, detail });
  process.emitWarning(
    `sessionkit: cookie-session key ${kid} has sealed more than ${config.usageThreshold} sessions; rotate the secrets`,
    { code: 'SESSIONKIT_KEY_USAGE' },
  );
}

/** Seals the session as it is now into its cookies; throws `SessionTooLargeError` before any output. */
function seal({ config, usage }: CookieContext, state: SessionState, now: number): string[] {
  const { cookie, keyring } = config;
  const sid = state.token ?? randomString(SID_BYTES);
  const touchedMeta = {
    ...state.meta,
    ...sealedMeta(config, state.meta.createdAt, now, state.meta.absoluteExpiresAt),
  };
  const data = mergedData(state);
  const sealed: SealedSession = {
    sid,
    createdAt: touchedMeta.createdAt,
    lastSeenAt: now,
    absoluteExpiresAt: touchedMeta.absoluteExpiresAt,
    version: state.version + 1,
    data,
  };
  if (touchedMeta.userId !== undefined) sealed.userId = touchedMeta.userId;
  if (touchedMeta.authenticatedAt !== undefined) sealed.authenticatedAt = touchedMeta.authenticatedAt;
  if (touchedMeta.persistent !== undefined) sealed.persistent = touchedMeta.persistent;
  const plaintext = encodeSession(sealed);
  const length = sealedLength(plaintext.length);
  // Checked before encrypting: an oversized session costs no crypto and sends no cookie (SEC-14).
  if (length > config.capacity) throw new SessionTooLargeError(length, config.capacity);
  const parts = splitValue(cookie.name, sealValue(keyring, plaintext), config.maxCookies);
  if (parts === null) throw new SessionTooLargeError(length, config.capacity);
  countSeal(config, usage);
  const out = parts.map(([name, value]) => sessionCookie(cookie, name, value, touchedMeta, now));
  out.push(...clears(cookie, parts.length, state.cookieChunks.slots));
  const created = state.isNew;
  const rekeyed = state.cookieChunks.reseal && !isDirty(state) && !state.tokenChanged;
  state.token = sid;
  state.base = data;
  state.changes.clear();
  state.meta = touchedMeta;
  state.version = sealed.version;
  state.isNew = false;
  state.metaChanged = false;
  state.tokenChanged = false;
  state.clearCookie = false;
  state.cookieChunks.chunks = parts.length;
  state.cookieChunks.slots = parts.length;
  state.cookieChunks.reseal = false;
  const type = created ? 'created' : rekeyed ? 'rotated' : 'saved';
  if (observed(type, rekeyed ? 'key' : undefined)) {
    const id = publicId(state);
    deliver(rekeyed ? { type, id, store: KIND, reason: 'key' } : { type, id, store: KIND });
  }
  return out;
}

/** The `Set-Cookie` values for the session as it is now (sealing it if it must be sent). */
function output(context: CookieContext, state: SessionState, now: number): string[] {
  const { cookie, touchMs } = context.config;
  if (state.destroyed || (state.isNew && !isDirty(state))) {
    return state.clearCookie ? clears(cookie, 0, Math.max(1, state.cookieChunks.slots)) : [];
  }
  const due =
    state.isNew ||
    isDirty(state) ||
    state.tokenChanged ||
    state.cookieChunks.reseal ||
    now - state.meta.lastSeenAt >= touchMs;
  // Unchanged and no touch due: nothing to seal; only leftover chunks of an earlier, longer value go.
  if (!due) return clears(cookie, state.cookieChunks.chunks, state.cookieChunks.slots);
  if (state.insecureTransport) {
    heldBack(KIND, state.insecureTransport);
    return [];
  }
  return seal(context, state, now);
}

/** `commit` of a cookie-only session: its cookies, unless `cookiesNow` already handed them out. */
export function commitCookies(context: CookieContext, state: SessionState): string[] {
  if (!state.cookiesSent) return output(context, state, context.config.clock.now());
  const pending = state.cookieChunks.error;
  if (pending instanceof SessionTooLargeError) throw pending;
  // The headers are gone: a change made after them cannot reach the browser.
  if (isDirty(state) || state.tokenChanged) {
    publish({ type: 'write-to-missing', id: publicId(state), store: KIND, reason: 'headers-sent' });
  }
  return [];
}

/** `cookiesNow` of a cookie-only session: its cookies for headers about to be flushed, once. */
export function cookiesNowFor(context: CookieContext, state: SessionState): string[] {
  if (state.cookiesSent) return [];
  state.cookiesSent = true;
  try {
    return output(context, state, context.config.clock.now());
  } catch (error) {
    // Reported by `commit`, on the adapter's error path, rather than inside a header flush.
    state.cookieChunks.error = error;
    return [];
  }
}
