/** Seeded randomness and a store wrapper that injects latency before and after store calls. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionStore } from '../../src/stores/types.js';

/** A seeded generator (mulberry32): the same seed gives the same choices. */
export interface Random {
  /** An integer in [0, n). */
  int(n: number): number;
}

export function random(seed: number): Random {
  let state = seed >>> 0;
  return {
    int(n) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * n);
    },
  };
}

/**
 * Wraps `store` so that each call may wait up to `maxDelayMs` before it reaches the store (another
 * request overtakes it) and after it ran there (its caller learns late), each with probability 1/2.
 */
export function jitterStore(store: SessionStore, rng: Random, maxDelayMs: number): SessionStore {
  const pause = async () => {
    if (rng.int(2) === 0) await sleep(rng.int(maxDelayMs + 1));
  };
  async function jittered<T>(call: () => Promise<T>): Promise<T> {
    await pause();
    const result = await call();
    await pause();
    return result;
  }
  const wrapper: SessionStore = {
    kind: store.kind,
    get: (key) => jittered(() => store.get(key)),
    set: (key, record) => jittered(() => store.set(key, record)),
    patch: (key, patch) => jittered(() => store.patch(key, patch)),
    destroy: (key) => jittered(() => store.destroy(key)),
  };
  const { listByUser, destroyByUser, settle } = store;
  if (settle) wrapper.settle = () => jittered(() => settle.call(store));
  if (listByUser) wrapper.listByUser = (userId) => jittered(() => listByUser.call(store, userId));
  if (destroyByUser) {
    wrapper.destroyByUser = (userId, exceptKey) =>
      jittered(() => destroyByUser.call(store, userId, exceptKey));
  }
  return wrapper;
}
