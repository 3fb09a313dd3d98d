/**
 * The tiered store's bookkeeping of cache writes per key: how many are in flight, and how many of
 * those it stopped waiting for (they timed out). A write given up on is not cancelled: the client may
 * still deliver it much later and out of order with newer ones (ioredis's Cluster client resends a
 * command whose connection closed, after a failover, to the new master). Internal to the tiered store.
 */

/** Counts of one key's cache writes. */
interface Counts {
  inFlight: number;
  abandoned: number;
}

/** The cache-write tracker of one tiered store. */
export type CacheWrites = ReturnType<typeof createCacheWrites>;

/** Tracks the cache writes of each key until the cache's own promise settles. */
export function createCacheWrites() {
  const keys = new Map<string, Counts>();
  const settle = (key: string, counts: Counts, abandoned: boolean) => {
    counts.inFlight--;
    if (abandoned) counts.abandoned--;
    if (counts.inFlight === 0) keys.delete(key);
  };
  return {
    /**
     * Starts `write` on `key`; `abandon()` tells the tracker the caller stopped waiting for it (a no-op
     * once it settled): until it settles, `abandoned(key)` is true.
     */
    track<T>(key: string, write: () => Promise<T>): { write: Promise<T>; abandon(): void } {
      const counts = keys.get(key) ?? { inFlight: 0, abandoned: 0 };
      keys.set(key, counts);
      counts.inFlight++;
      let done = false;
      let abandoned = false;
      const finish = () => {
        done = true;
        settle(key, counts, abandoned);
      };
      const running = new Promise<T>((resolve) => resolve(write()));
      running.then(finish, finish);
      return {
        write: running,
        abandon() {
          if (done || abandoned) return;
          abandoned = true;
          counts.abandoned++;
        },
      };
    },
    /** True when no cache write of `key` is in flight. */
    idle: (key: string) => !keys.has(key),
    /** True while a cache write of `key` that the caller gave up on may still land. */
    abandoned: (key: string) => (keys.get(key)?.abandoned ?? 0) > 0,
  };
}
