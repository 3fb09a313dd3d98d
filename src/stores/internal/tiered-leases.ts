/**
 * The tiered store's leases on a process-local cache: an entry is served only for `leaseMs` after it
 * was read from (or written to) the durable store, and a write that kills a key outwaits every lease
 * any process may hold on it. Counted on the monotonic timer: leases bound real time between
 * processes. Internal to the tiered store.
 */

/** The leases of a process-local cache. */
export type Leases = ReturnType<typeof createLeases>;

/**
 * Lease start times per key, in insertion order (a renewed lease moves to the end), so expired leases
 * are dropped from the front and the map holds only live ones.
 */
export function createLeases(leaseMs: number) {
  const started = new Map<string, number>();
  const prune = (now: number) => {
    for (const [key, at] of started) {
      if (now - at < leaseMs) break;
      started.delete(key);
    }
  };
  return {
    /** The cached entry of `key` was read from / written to the durable store at `since`. */
    grant(key: string, since: number): void {
      started.delete(key);
      started.set(key, since);
      prune(performance.now());
    },
    /** True when the cache must not serve `key` without asking the durable store. */
    expired(key: string): boolean {
      const at = started.get(key);
      return at === undefined || performance.now() - at >= leaseMs;
    },
    /** Resolves once a lease granted by any process before `written` has run out. */
    async outwait(written: number): Promise<void> {
      // A timer may fire up to a millisecond early by performance.now(): wait until it has truly passed.
      let left = written + leaseMs - performance.now();
      while (left >= 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(left))));
        left = written + leaseMs - performance.now();
      }
    },
  };
}
