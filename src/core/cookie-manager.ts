/**
 * The cookie-only session manager: the whole session sealed into the cookie (SECURITY.md §E), the
 * same `SessionManager` interface as the store-backed one, no store.
 */
import { maxHeaderSize } from 'node:http';
import { SessionConfigError, SessionStateError, SessionStoreError, SessionTooLargeError } from '../errors.js';
import { clearCookie, readCookie, readCookiesWithPrefix, serializeCookie } from './cookie.js';
import { randomString, tokenKey } from './crypto.js';
import { deliver, describeError, observed, publish, type RejectReason } from './diagnostics.js';
import { createInvalidTokenMonitor, type InvalidTokenOptions } from './invalid-tokens.js';
import { cookieMaxAge, expiryVerdict, loginMeta, markDestroyed } from './lifecycle/shared.js';
import {
  heldBack,
  lifetimeMeta,
  type ResolvedLifetimes,
  resolveLifetimes,
  transportFix,
  wholeNumber,
} from './options.js';
import {
  assembleValue,
  chunkCapacity,
  chunkName,
  chunkSlots,
  createKeyring,
  decodeSession,
  encodeSession,
  headerCapacity,
  type Keyring,
  MAX_CHUNKS,
  openValue,
  type SealedSession,
  sealedLength,
  sealValue,
  splitValue,
} from './sealed.js';
import {
  createSession,
  dropCsrf,
  isDirty,
  mergedData,
  newState,
  readKey,
  type SessionDriver,
  type SessionState,
  stateOf,
} from './session.js';
import type { SessionMeta } from './store-contract.js';
import type {
  LifetimeOptions,
  RequestInfo,
  Session,
  SessionDataShape,
  SessionManager,
  UntypedSessionData,
} from './types.js';
import { toStorable } from './values.js';

/** Options of `createCookieSessionManager`. */
export interface CookieSessionManagerOptions extends LifetimeOptions {
  /**
   * Secrets the keys are derived from (HKDF-SHA-256), current first: `[current, ...previous]`. The
   * first seals, all open, and a session opened with a previous one is re-sealed with the current
   * one on that response. Each holds at least 32 random bytes; at most 4; no repeats. Drop a previous
   * secret once `absoluteTimeoutSeconds` has passed since it was replaced.
   */
  secrets: ReadonlyArray<string | Uint8Array>;
  /**
   * Cookies one session may span (`<name>`, `<name>.1`, …, each at most 4096 bytes of name and
   * value); a bigger session makes `commit` reject with `ERR_SESSION_TOO_LARGE`. `maxCookieBytes`
   * usually binds first.
   * @default 4
   */
  maxCookies?: number;
  /**
   * Bytes the session cookies may add to a request's `Cookie` header, all chunks together. The
   * server refuses a request whose headers exceed its limit (Node.js: `http.maxHeaderSize`, 16 KiB,
   * answered 431 before any app code runs), so a bigger session would lock the browser out; it makes
   * `commit` reject with `ERR_SESSION_TOO_LARGE` (413) instead, and no cookie changes. The default
   * leaves 4 KiB for the rest of a browser's request (request line, Referer, other headers and
   * cookies). Raise it only together with the server's header limit.
   * @default http.maxHeaderSize - 4096 (12288 with Node's default limit)
   */
  maxCookieBytes?: number;
  /**
   * Revocation hook (SEC-33), consulted on every request that carries a logged-in session: a session
   * of `userId` authenticated before the returned epoch ms is rejected as `revoked`. Without it, a
   * sealed cookie copied before logout stays valid until it expires. A rejection (or throw) fails the
   * load with `ERR_SESSION_STORE`. @default undefined (no revocation)
   */
  notBefore?: (userId: string) => number | undefined | Promise<number | undefined>;
  /**
   * Seals per key after which a `key-usage` event and a process warning (once per key) say it is
   * time to rotate (AES-GCM with random nonces must stay far below 2^32 seals per key, SEC-38).
   * Counted in this process only. @default 2**30
   */
  keyUsageWarningThreshold?: number;
  /** Counting of undecryptable cookies per client IP, raising a `bruteforce` event (SEC-41). */
  invalidTokens?: InvalidTokenOptions;
}

/** A cookie-only session manager. */
export interface CookieSessionManager<Data extends SessionDataShape = UntypedSessionData>
  extends SessionManager<Data> {
  /** Seals done in this process per key id (8 hex digits), for rotation planning (SEC-38). */
  keyUsage(): Record<string, number>;
}

interface Resolved extends ResolvedLifetimes {
  keyring: Keyring;
  maxCookies: number;
  maxCookieBytes: number;
  capacity: number;
  notBefore: ((userId: string) => number | undefined | Promise<number | undefined>) | undefined;
  usageThreshold: number;
}

const KIND = 'cookie';
const PURPOSE = 'session';
/** Future-dated timestamps tolerated in a sealed session (clock skew between servers; Fernet, iron: 60 s). */
const FUTURE_SKEW_MS = 60_000;
const SID_BYTES = 16;
/** Room left under the server's header limit for the rest of a browser's request. */
const REQUEST_RESERVE_BYTES = 4096;
/** The default cookie budget: the server's header limit minus the rest of a request (half of a small limit). */
const DEFAULT_COOKIE_BYTES = Math.max(maxHeaderSize - REQUEST_RESERVE_BYTES, Math.floor(maxHeaderSize / 2));

function resolve(options: CookieSessionManagerOptions): Resolved {
  const base = resolveLifetimes(options);
  const keyring = createKeyring(options.secrets, { cookieName: base.cookie.name, purpose: PURPOSE });
  const maxCookies = wholeNumber('maxCookies', options.maxCookies, 4, 1, MAX_CHUNKS);
  const maxCookieBytes = wholeNumber(
    'maxCookieBytes',
    options.maxCookieBytes,
    DEFAULT_COOKIE_BYTES,
    512,
    1 << 20,
  );
  const notBefore = options.notBefore;
  if (notBefore !== undefined && typeof notBefore !== 'function') {
    throw new SessionConfigError('notBefore', 'must be a function (userId) => epoch ms | undefined');
  }
  return {
    ...base,
    keyring,
    maxCookies,
    maxCookieBytes,
    capacity: Math.min(
      chunkCapacity(base.cookie.name, maxCookies),
      headerCapacity(base.cookie.name, maxCookies, maxCookieBytes),
    ),
    notBefore,
    usageThreshold: wholeNumber(
      'keyUsageWarningThreshold',
      options.keyUsageWarningThreshold,
      2 ** 30,
      1,
      2 ** 32,
    ),
  };
}

/**
 * Creates a session manager that keeps the whole session in the cookie, sealed with AES-256-GCM
 * (no store). Every seal uses a fresh nonce, so the cookie value changes on every write; an old
 * value cannot be invalidated (there is no reuse detection and `regenerate()`/`destroy()` cannot
 * kill a copy of it): it stays valid until it expires unless `notBefore` revokes it.
 * @example
 * import { createCookieSessionManager } from 'sessionkit/cookie-session';
 * const sessions = createCookieSessionManager<{ cart: string[] }>({
 *   secrets: [process.env.SESSION_SECRET ?? ''], // 32+ random bytes, e.g. `openssl rand -base64 32`
 * });
 */
export function createCookieSessionManager<Data extends SessionDataShape = UntypedSessionData>(
  options: CookieSessionManagerOptions,
): CookieSessionManager<Data> {
  const config = resolve(options);
  const { clock, cookie, keyring } = config;
  const usage = new Map<string, number>();
  const invalidTokens = createInvalidTokenMonitor(options.invalidTokens, clock);

  function reject(reason: RejectReason, detail?: Record<string, string>): void {
    publish(
      detail === undefined
        ? { type: 'rejected', reason, store: KIND }
        : { type: 'rejected', reason, store: KIND, detail },
    );
  }

  function publicId(state: SessionState): string {
    if (state.key === undefined) {
      state.token ??= randomString(SID_BYTES);
      state.key = tokenKey(state.token);
    }
    return state.key;
  }

  const meta = (createdAt: number, lastSeenAt: number, absoluteExpiresAt: number): SessionMeta =>
    // The AEAD data binds the cookie name already; the audience records it for the shared meta shape.
    ({ ...lifetimeMeta(config, createdAt, lastSeenAt, absoluteExpiresAt), audience: config.cookie.name });

  function fresh(now: number, request: RequestInfo | undefined, presented: number): Session<Data> {
    const state = newState(meta(now, now, now + config.absoluteMs));
    state.clearCookie = presented > 0;
    state.cookieChunks.chunks = 0;
    state.cookieChunks.slots = presented;
    state.insecureTransport = transportFix(config, request);
    return createSession<Data>(state, driver);
  }

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

  async function load(
    header: string | readonly string[] | undefined,
    request?: RequestInfo,
  ): Promise<Session<Data>> {
    const values = readCookie(header, cookie.name);
    const now = clock.now();
    if (values.length === 0) return fresh(now, request, 0);
    const chunkCookies = readCookiesWithPrefix(header, `${cookie.name}.`);
    const slots = chunkSlots(cookie.name, chunkCookies);
    const first = values[0];
    if (first === undefined || values.some((v) => v !== first)) {
      reject('duplicate');
      return fresh(now, request, slots);
    }
    const assembled = assembleValue(cookie.name, first, chunkCookies, config.maxCookies);
    if (!assembled.ok) {
      reject(assembled.reason);
      invalidTokens.record(request?.ip);
      return fresh(now, request, slots);
    }
    const opened = openValue(keyring, assembled.value);
    const sealed = opened.ok ? decodeSession(opened.plaintext) : null;
    if (!opened.ok || sealed === null) {
      reject(opened.ok ? 'malformed' : opened.reason);
      invalidTokens.record(request?.ip);
      return fresh(now, request, slots);
    }
    // iat: when this identity was issued (creation, or the last login, which also restarts the
    // absolute timeout); a shorter configured timeout applies to sessions sealed before the change.
    const issuedAt = sealed.authenticatedAt ?? sealed.createdAt;
    const latest = Math.max(issuedAt, sealed.createdAt, sealed.lastSeenAt);
    if (latest > now + FUTURE_SKEW_MS) {
      reject('malformed', { cause: 'future-timestamp' });
      return fresh(now, request, slots);
    }
    const absoluteExpiresAt = Math.min(sealed.absoluteExpiresAt, issuedAt + config.absoluteMs);
    const state = newState(meta(sealed.createdAt, sealed.lastSeenAt, absoluteExpiresAt));
    const expired = expiryVerdict(state.meta, now);
    if (expired !== null) {
      const id = tokenKey(sealed.sid);
      publish({ type: 'expired', id, reason: expired, store: KIND });
      publish({ type: 'rejected', reason: expired, store: KIND, id });
      return fresh(now, request, slots);
    }
    const hook = config.notBefore;
    if (hook !== undefined && sealed.userId !== undefined && (await revoked(hook, sealed.userId, issuedAt))) {
      publish({ type: 'rejected', reason: 'revoked', store: KIND, id: tokenKey(sealed.sid) });
      return fresh(now, request, slots);
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
    return createSession<Data>(state, driver);
  }

  function clears(from: number, to: number): string[] {
    const out: string[] = [];
    for (let index = from; index < to; index++) out.push(clearCookie(cookie, chunkName(cookie.name, index)));
    return out;
  }

  function countSeal(): void {
    const { kid } = keyring.current;
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
  function seal(state: SessionState, now: number): string[] {
    const sid = state.token ?? randomString(SID_BYTES);
    const touchedMeta = { ...state.meta, ...meta(state.meta.createdAt, now, state.meta.absoluteExpiresAt) };
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
    countSeal();
    const age = cookieMaxAge(cookie.maxAgeSeconds, touchedMeta, now);
    const out = parts.map(([name, value]) => serializeCookie(cookie, name, value, age));
    out.push(...clears(parts.length, state.cookieChunks.slots));
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
  function output(state: SessionState, now: number): string[] {
    if (state.destroyed || (state.isNew && !isDirty(state))) {
      return state.clearCookie ? clears(0, Math.max(1, state.cookieChunks.slots)) : [];
    }
    const due =
      state.isNew ||
      isDirty(state) ||
      state.tokenChanged ||
      state.cookieChunks.reseal ||
      now - state.meta.lastSeenAt >= config.touchMs;
    // Unchanged and no touch due: nothing to seal; only leftover chunks of an earlier, longer value go.
    if (!due) return clears(state.cookieChunks.chunks, state.cookieChunks.slots);
    if (state.insecureTransport) {
      heldBack(KIND, state.insecureTransport);
      return [];
    }
    return seal(state, now);
  }

  const driver: SessionDriver = {
    now: () => clock.now(),
    assignId: publicId,
    async update(state, key, fn) {
      // Nothing to race: the session lives in this request's cookie, so the update is local.
      const value = toStorable(key, fn(readKey(state, key)));
      state.changes.set(key, value);
      return value;
    },
    async regenerate(state) {
      // The CSRF token is bound to the old privilege level: a fresh one is made on demand.
      dropCsrf(state);
      state.token = randomString(SID_BYTES);
      state.key = undefined;
      state.tokenChanged = true;
      if (state.isNew) state.metaChanged = true;
      publish({ type: 'regenerated', id: publicId(state), store: KIND });
    },
    async login(state, userId, options) {
      state.meta = loginMeta(config, state.meta, userId, clock.now(), options);
      state.metaChanged = true;
      await driver.regenerate(state);
    },
    async destroy(state) {
      if (!state.isNew) publish({ type: 'destroyed', id: publicId(state), store: KIND });
      markDestroyed(state);
    },
  };

  async function commit(session: Session<Data>): Promise<string[]> {
    const state = stateOf(session);
    if (!state.cookiesSent) return output(state, clock.now());
    const pending = state.cookieChunks.error;
    if (pending instanceof SessionTooLargeError) throw pending;
    // The headers are gone: a change made after them cannot reach the browser.
    if (isDirty(state) || state.tokenChanged) {
      publish({ type: 'write-to-missing', id: publicId(state), store: KIND, reason: 'headers-sent' });
    }
    return [];
  }

  function cookiesNow(session: Session<Data>): string[] {
    const state = stateOf(session);
    if (state.cookiesSent) return [];
    state.cookiesSent = true;
    try {
      return output(state, clock.now());
    } catch (error) {
      // Reported by `commit`, on the adapter's error path, rather than inside a header flush.
      state.cookieChunks.error = error;
      return [];
    }
  }

  function noIndex(): Promise<never> {
    return Promise.reject(
      new SessionStateError('cookie-only sessions have no per-user index (use the notBefore option)'),
    );
  }

  return {
    cookieName: cookie.name,
    storeKind: KIND,
    load,
    commit,
    cookiesNow,
    listUserSessions: noIndex,
    revokeUserSessions: noIndex,
    keyUsage: () => Object.fromEntries(usage),
  };
}
