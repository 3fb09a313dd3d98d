import type { SessionStore } from '../stores/types.js';

/** Store operations an instrumented store counts and can fail. */
export type StoreOperation = 'get' | 'set' | 'patch' | 'destroy' | 'listByUser' | 'destroyByUser' | 'prune';

/** A store wrapper for tests: counts calls per operation and injects failures or delays. */
export interface InstrumentedStore extends SessionStore {
  /** Calls per operation since creation (or the last `reset()`). */
  readonly calls: Record<StoreOperation, number>;
  /** Total calls of all operations. */
  total(): number;
  /** Zeroes the counters. */
  reset(): void;
  /** Operations that reject with an injected error from now on (empty set = none). */
  failing: Set<StoreOperation>;
  /** Milliseconds every call waits before reaching the inner store. */
  delayMs: number;
}

/**
 * Wraps a store to count its calls and inject failures, for tests of code built on a store.
 * @example
 * const store = instrumentStore(createMemoryStore());
 * store.failing.add('get'); // the next loads fail with ERR_SESSION_STORE
 */
export function instrumentStore(inner: SessionStore): InstrumentedStore {
  const zero = (): Record<StoreOperation, number> => ({
    get: 0,
    set: 0,
    patch: 0,
    destroy: 0,
    listByUser: 0,
    destroyByUser: 0,
    prune: 0,
  });
  let calls = zero();
  const wrapper: InstrumentedStore = {
    kind: inner.kind,
    get calls() {
      return calls;
    },
    total: () => Object.values(calls).reduce((a, b) => a + b, 0),
    reset() {
      calls = zero();
    },
    failing: new Set(),
    delayMs: 0,
    get: (key) => run('get', () => inner.get(key)),
    set: (key, record) => run('set', () => inner.set(key, record)),
    patch: (key, patch) => run('patch', () => inner.patch(key, patch)),
    destroy: (key) => run('destroy', () => inner.destroy(key)),
  };
  const { listByUser, destroyByUser, prune, close } = inner;
  if (listByUser) wrapper.listByUser = (userId) => run('listByUser', () => listByUser.call(inner, userId));
  if (destroyByUser) {
    wrapper.destroyByUser = (userId, exceptKey) =>
      run('destroyByUser', () => destroyByUser.call(inner, userId, exceptKey));
  }
  if (prune) wrapper.prune = () => run('prune', () => prune.call(inner));
  if (close) wrapper.close = () => close.call(inner);

  async function run<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    calls[operation]++;
    if (wrapper.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, wrapper.delayMs));
    if (wrapper.failing.has(operation)) throw new Error(`injected ${operation} failure`);
    return call();
  }
  return wrapper;
}
