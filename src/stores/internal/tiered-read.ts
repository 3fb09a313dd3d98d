/**
 * The tiered store's read path: serve the cache when it holds a live, unexpired copy (and, for a
 * process-local cache, its lease still runs), else read the durable store and refill the cache.
 * Internal to the tiered store.
 */
import type { Clock } from '../../core/clock.js';
import { publish } from '../../core/diagnostics.js';
import type { SessionRecord, SessionStore } from '../types.js';
import { failed, type TierDetail, type TryCache } from './tiered-cache.js';
import type { Leases } from './tiered-leases.js';
import { isTombstone, type Tombstones } from './tiered-tombstones.js';

/** What the read path of one tiered store needs. */
export interface ReadThroughOptions {
  cache: SessionStore;
  durable: SessionStore;
  clock: Clock;
  /** The leases of a process-local cache; none for a shared one. */
  leases: Leases | undefined;
  tombstones: Tombstones;
  tryCache: TryCache;
  detail: TierDetail;
}

/** The tiered store's `get`. */
export function createReadThrough(
  options: ReadThroughOptions,
): (key: string) => Promise<SessionRecord | null> {
  const { cache, durable, clock, leases, tombstones, tryCache, detail } = options;
  return async (key) => {
    // A lapsed lease (process-local cache) is a miss: another process may have changed the record.
    const lapsed = leases?.expired(key) ?? false;
    const cached =
      tombstones.unrepaired(key) || lapsed ? failed : await tryCache('get', () => cache.get(key));
    const tombstoned = cached !== failed && cached !== null && isTombstone(cached);
    // An expired copy is a miss: the durable store may have pruned it, and the cache's own TTL
    // (another clock, whole seconds) may not have dropped it yet.
    if (cached !== failed && cached !== null && !tombstoned && cached.meta.expiresAt >= clock.now()) {
      publish({ type: 'cache-hit', store: 'tiered', detail });
      return cached;
    }
    publish({ type: 'cache-miss', store: 'tiered', detail });
    const reading = performance.now();
    const record = await durable.get(key);
    // A tombstone would refuse the backfill anyway; a failing (or unrepaired) cache is not asked.
    const refill = lapsed ? !tombstones.unrepaired(key) : cached !== failed && !tombstoned;
    if (record !== null && refill && (await tryCache('set', () => cache.set(key, record), key)) !== failed) {
      leases?.grant(key, reading);
    }
    return record;
  };
}
