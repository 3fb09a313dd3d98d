/**
 * The store-backed session manager: token in the cookie, record in a `SessionStore`. This file only
 * assembles it; each lifecycle step lives in `./lifecycle/` (docs/architecture.md walks a request).
 */
import { commit, cookiesNow } from './lifecycle/commit.js';
import { createStoreContext, type ManagerContext, type StoreContext } from './lifecycle/context.js';
import { load } from './lifecycle/load.js';
import { ensureToken } from './lifecycle/record-state.js';
import { destroy } from './lifecycle/revocation.js';
import { login, regenerate } from './lifecycle/rotation.js';
import type { SessionManagerOptions, StoreSessionManager } from './lifecycle/store-options.js';
import { listUserSessions, revokeSession, revokeUserSessions } from './lifecycle/user-sessions.js';
import { update } from './lifecycle/write.js';
import type { SessionDriver } from './session.js';
import type { SessionDataShape, UntypedSessionData } from './types.js';

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
  const context: ManagerContext = Object.assign(base, { driver: storeDriver(base) });
  const { store } = context;
  return {
    cookieName: context.config.cookie.name,
    revokeSession: (userId, id) => revokeSession(context, userId, id),
    storeKind: context.kind,
    store,
    load: (header, request) => load<Data>(context, header, request),
    commit: (session) => commit(context, session),
    cookiesNow: (session) => cookiesNow(context, session),
    listUserSessions: (userId, current) => listUserSessions(context, userId, current),
    revokeUserSessions: (userId, opts) => revokeUserSessions(context, userId, opts),
    close: async () => {
      await store.close?.();
    },
  };
}

/** The I/O the sessions of this manager delegate to it. */
function storeDriver(context: StoreContext): SessionDriver {
  return {
    now: () => context.clock.now(),
    assignId: ensureToken,
    update: (state, key, fn) => update(context, state, key, fn),
    regenerate: (state) => regenerate(context, state),
    login: (state, userId, options) => login(context, state, userId, options),
    destroy: (state) => destroy(context, state),
  };
}
