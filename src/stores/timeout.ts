/**
 * Public entry `sessionkit/stores/timeout`: a store wrapper that bounds every call by a timeout, so a
 * store that hangs (a frozen server, a dropped connection the driver keeps retrying, an exhausted pool)
 * fails the request with `ERR_SESSION_STORE` (503) instead of holding it until the client gives up.
 *
 * @module
 */
import { MAX_TIMEOUT_MS, withinDeadline } from '../core/deadline.js';
import { publish } from '../core/diagnostics.js';
import { SessionConfigError } from '../errors.js';
import type { SessionStore } from './types.js';

/** Options of `withTimeout`. */
export interface TimeoutStoreOptions {
  /**
   * Milliseconds a store call may take before it rejects with `ERR_SESSION_STORE`.
   * @default 1000
   */
  timeoutMs?: number;
}

/**
 * Wraps `store` so that every call (`get`, `set`, `patch`, `destroy`, the per-user calls and `prune`)
 * rejects with a `SessionStoreError` once it has taken `timeoutMs`, publishing a `store-error` event
 * with reason `"timeout"`. The wrapper keeps the store's `kind`; results (also `destroy`'s successor) are
 * passed through as the store gave them; `close` is passed through unbounded.
 * A write that timed out may still land later (its outcome is unknown, as with any timeout); the
 * store's own rules (versions, compare-and-set) keep such a late write from overwriting a newer one.
 * @example
 * const store = withTimeout(createRedisStore(new Redis()), { timeoutMs: 500 });
 * const sessions = createSessionManager({ store });
 */
export function withTimeout(store: SessionStore, options: TimeoutStoreOptions = {}): SessionStore {
  if (!store || typeof store.get !== 'function' || typeof store.patch !== 'function') {
    throw new SessionConfigError('store', 'must be a SessionStore (get, set, patch, destroy)');
  }
  const timeoutMs = options.timeoutMs ?? 1000;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new SessionConfigError('timeoutMs', `must be a number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`);
  }
  const kind = store.kind;

  function bounded<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return withinDeadline(kind, operation, timeoutMs, run, () =>
      publish({ type: 'store-error', store: kind, reason: 'timeout', detail: { operation, timeoutMs } }),
    );
  }

  const wrapper: SessionStore = {
    kind,
    get: (key) => bounded('get', () => store.get(key)),
    set: (key, record) => bounded('set', () => store.set(key, record)),
    patch: (key, patch) => bounded('patch', () => store.patch(key, patch)),
    destroy: (key) => bounded('destroy', () => store.destroy(key)),
  };
  const { listByUser, destroyByUser, prune, close } = store;
  if (listByUser)
    wrapper.listByUser = (userId) => bounded('listByUser', () => listByUser.call(store, userId));
  if (destroyByUser) {
    wrapper.destroyByUser = (userId, exceptKey) =>
      bounded('destroyByUser', () => destroyByUser.call(store, userId, exceptKey));
  }
  if (prune) wrapper.prune = () => bounded('prune', () => prune.call(store));
  if (close) wrapper.close = () => close.call(store);
  return wrapper;
}
