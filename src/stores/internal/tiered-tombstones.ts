/**
 * The tiered store's tombstones: how a key is blocked in the cache after a write could not update
 * it or killed it, and the repair loop that blocks the keys the cache could not be reached for
 * once it answers again. Internal to the tiered store.
 */
import type { Clock } from '../../core/clock.js';
import { publish } from '../../core/diagnostics.js';
import type { SessionRecord, SessionStore } from '../types.js';
import type { CacheWrites } from './cache-writes.js';
import { failed, type TierDetail, type TryCache } from './tiered-cache.js';

// No real record reaches this version, and a cache keeps it against any backfill (version rule).
const TOMBSTONE_VERSION = Number.MAX_SAFE_INTEGER;
// Bounds the memory a long cache outage can take (about 100 bytes per key).
const MAX_UNREPAIRED = 100_000;

/** True for the record a tombstone puts in the cache. */
export function isTombstone(record: SessionRecord): boolean {
  return record.version === TOMBSTONE_VERSION;
}

/** What the tombstones of one tiered store need. */
export interface TombstoneOptions {
  cache: SessionStore;
  clock: Clock;
  tryCache: TryCache;
  writes: CacheWrites;
  tombstoneSeconds: number;
  /** How long a live key whose cache write failed stays blocked. */
  liveBlockMs: number;
  repairIntervalMs: number;
  detail: TierDetail;
}

/** The tombstones of one tiered store. */
export type Tombstones = ReturnType<typeof createTombstones>;

/** The keys the cache may hold wrongly, and how they are blocked. */
export function createTombstones(options: TombstoneOptions) {
  const { cache, clock, tryCache, writes, tombstoneSeconds, liveBlockMs, repairIntervalMs, detail } = options;
  // Keys whose cached copy may be older than the durable record: a write could neither update nor
  // remove it. Reads here skip the cache for them; a timer blocks them once the cache answers again.
  // Keys the cache may hold wrongly, each with whether it was killed (see `invalidate`).
  const unrepaired = new Map<string, boolean>();
  let repairTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  /**
   * Keeps the cache from serving anything for `key` until the tombstone expires; false if it cannot,
   * or not yet: while a write given up on may still land (a delete after the tombstone, an older record
   * after a delete), or a delete raced another write, nothing in the cache is final for the key.
   */
  async function block(key: string, lifetimeMs: number): Promise<boolean> {
    const now = clock.now();
    const meta = { createdAt: now, lastSeenAt: now, idleExpiresAt: now, absoluteExpiresAt: now };
    const tombstone = {
      data: {},
      version: TOMBSTONE_VERSION,
      meta: { ...meta, audience: '', expiresAt: now + lifetimeMs },
    };
    // A tombstone is always safe to send: no write, however late, replaces it.
    if ((await tryCache('set', () => cache.set(key, tombstone), key)) !== failed)
      return !writes.abandoned(key);
    if (writes.abandoned(key)) return false;
    // Without a tombstone a racing backfill may still land; deleting at least drops the old version.
    return (await tryCache('destroy', () => cache.destroy(key), key)) !== failed && writes.idle(key);
  }

  /**
   * Blocks `key` in the cache. A killed key (destroyed, or retired by a successor) is blocked for
   * `tombstoneSeconds`, so a backfill that read it before the kill cannot bring it back; a live key whose
   * cache write failed only for as long as a racing backfill can take (four cache timeouts): after that
   * the next read refills it, so a cache that was frozen for a while serves again soon after it thaws.
   */
  async function invalidate(key: string, killed: boolean): Promise<void> {
    if (await block(key, killed ? tombstoneSeconds * 1000 : liveBlockMs)) unrepaired.delete(key);
    else remember(key, killed);
  }

  function remember(key: string, killed: boolean): void {
    if (unrepaired.size >= MAX_UNREPAIRED) {
      publish({ type: 'cache-error', store: 'tiered', reason: 'repair-overflow', detail });
      return;
    }
    unrepaired.set(key, killed || (unrepaired.get(key) ?? false));
    if (repairTimer === undefined && !closed) {
      repairTimer = setTimeout(repair, repairIntervalMs);
      repairTimer.unref();
    }
  }

  async function repair(): Promise<void> {
    for (const [key, killed] of unrepaired) {
      // A key waits for its writes given up on to settle; another failure means the cache is still
      // unreachable: try again later, not once per key.
      if (writes.abandoned(key)) continue;
      if (!(await block(key, killed ? tombstoneSeconds * 1000 : liveBlockMs))) break;
      unrepaired.delete(key);
    }
    repairTimer = undefined;
    if (unrepaired.size > 0 && !closed) {
      repairTimer = setTimeout(repair, repairIntervalMs);
      repairTimer.unref();
    }
  }

  return {
    invalidate,
    /** Marks `key` as possibly wrong in the cache, to block once the cache answers again. */
    remember,
    /** The cache holds what the durable store holds for `key`. */
    repaired: (key: string): void => void unrepaired.delete(key),
    /** True while the cache may hold `key` wrongly: reads skip the cache for it. */
    unrepaired: (key: string): boolean => unrepaired.has(key),
    /** Stops the repair timer. */
    close(): void {
      closed = true;
      clearTimeout(repairTimer);
      repairTimer = undefined;
    },
  };
}
