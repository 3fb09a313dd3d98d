/**
 * The cookie-only session manager: the whole session sealed into the cookie (SECURITY.md §E), the
 * same `SessionManager` interface as the store-backed one, no store. Loading is in
 * lifecycle/cookie-load.ts, committing in lifecycle/cookie-commit.ts.
 */
import { SessionStateError } from '../errors.js';
import { randomString } from './crypto.js';
import { publish } from './diagnostics.js';
import { createInvalidTokenMonitor } from './invalid-tokens.js';
import { commitCookies, cookiesNowFor } from './lifecycle/cookie-commit.js';
import {
  type CookieConfig,
  type CookieContext,
  type CookieSessionManagerOptions,
  KIND,
  publicId,
  resolveCookieConfig,
  SID_BYTES,
} from './lifecycle/cookie-config.js';
import { loadCookieSession } from './lifecycle/cookie-load.js';
import { loginMeta, markDestroyed, updateLocally } from './lifecycle/shared.js';
import { dropCsrf, type SessionDriver, stateOf } from './session.js';
import type { RequestInfo, Session, SessionDataShape, SessionManager, UntypedSessionData } from './types.js';

export type { CookieSessionManagerOptions };

/** A cookie-only session manager. */
export interface CookieSessionManager<Data extends SessionDataShape = UntypedSessionData>
  extends SessionManager<Data> {
  /** Seals done in this process per key id (8 hex digits), for rotation planning (SEC-38). */
  keyUsage(): Record<string, number>;
}

/** What a cookie-only session does on `update`, `regenerate`, `login` and `destroy`: no I/O. */
function cookieDriver(config: CookieConfig): SessionDriver {
  const driver: SessionDriver = {
    now: () => config.clock.now(),
    assignId: publicId,
    // Nothing to race: the session lives in this request's cookie, so the update is local.
    update: async (state, key, fn) => updateLocally(state, key, fn),
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
      state.meta = loginMeta(config, state.meta, userId, config.clock.now(), options);
      state.metaChanged = true;
      await driver.regenerate(state);
    },
    async destroy(state) {
      if (!state.isNew) publish({ type: 'destroyed', id: publicId(state), store: KIND });
      markDestroyed(state);
    },
  };
  return driver;
}

function noIndex(): Promise<never> {
  return Promise.reject(
    new SessionStateError('cookie-only sessions have no per-user index (use the notBefore option)'),
  );
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
  const config = resolveCookieConfig(options);
  const context: CookieContext = {
    config,
    driver: cookieDriver(config),
    invalidTokens: createInvalidTokenMonitor(options.invalidTokens, config.clock),
    usage: new Map(),
  };
  return {
    cookieName: config.cookie.name,
    storeKind: KIND,
    load: (header: string | readonly string[] | undefined, request?: RequestInfo) =>
      loadCookieSession<Data>(context, header, request),
    commit: async (session: Session<Data>) => commitCookies(context, stateOf(session)),
    cookiesNow: (session: Session<Data>) => cookiesNowFor(context, stateOf(session)),
    listUserSessions: noIndex,
    revokeUserSessions: noIndex,
    keyUsage: () => Object.fromEntries(context.usage),
  };
}
