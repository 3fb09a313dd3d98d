/**
 * A tiered store: a fast, lossy cache (memory, Redis or Memcached) in front of a durable store
 * (SQLite, PostgreSQL, or Redis with persistence). Reads hit the cache and fall back to the durable
 * store; writes land in the durable store first, so an evicted, flushed or dead cache loses nothing.
 *
 * Invariant: once a write has returned, no later read returns an older version. The cache only ever
 * moves forward, because every cache write uses the contract's "set unless the stored version is ≥"
 * rule, and destroy leaves a tombstone (a record at the highest version) that a racing backfill
 * cannot overwrite. See docs/stores.md for the limits (a cache that was unreachable but kept its data).
 *
 * A process-local cache (memory) cannot be told about another process's writes, so its entries are
 * leases: served for `cacheLeaseMs` after they were read from (or written to) the durable store, and a
 * write that kills a key (destroy, a patch that links a successor) resolves only once every lease on it
 * anywhere has run out. When that write resolves, no process serves the old record any more.
 *
 * @module
 */
import type { Clock } from '../core/clock.js';
import { resolveClock } from '../core/clock.js';
import { SessionConfigError } from '../errors.js';
import { createCacheWrites } from './internal/cache-writes.js';
import { createTryCache, failed } from './internal/tiered-cache.js';
import { createLeases } from './internal/tiered-leases.js';
import { createReadThrough } from './internal/tiered-read.js';
import { createTombstones } from './internal/tiered-tombstones.js';
import type { PatchResult, SessionRecord, SessionStore } from './types.js';

/** Options of `createTieredStore`. */
export interface TieredStoreOptions {
  /** The fast, lossy store reads try first (memory, Redis or Memcached). */
  cache: SessionStore;
  /** The store that holds the truth (SQLite, PostgreSQL, or Redis with persistence). */
  durable: SessionStore;
  /**
   * Milliseconds a cache operation may take before it counts as failed and the request carries on
   * with the durable store.
   * @default 250
   */
  cacheTimeoutMs?: number;
  /**
   * Seconds a destroyed (or not updatable) key stays blocked in the cache, so that a read that raced
   * the write cannot put the old record back. Longer than any cache round trip can take.
   * @default 60
   */
  tombstoneSeconds?: number;
  /**
   * Milliseconds between attempts to block keys whose cache entry could not be updated or removed
   * (the cache failed or timed out during a write), until the cache answers again.
   * @default 1000
   */
  repairIntervalMs?: number;
  /**
   * `"process"` when the cache lives in this process (other processes sharing the durable store cannot
   * invalidate it): its entries are leases (see `cacheLeaseMs`). `"shared"` when every process uses the
   * same cache (Redis, Memcached): a tombstone there is seen by all.
   * @default "process" for a memory cache, otherwise "shared"
   */
  cacheScope?: 'process' | 'shared';
  /**
   * With a process-local cache: milliseconds a cached entry is served after it was read from or written
   * to the durable store (cross-process reads are stale by at most this), and how long a destroy or a
   * login/rotation waits before it resolves. Counted on the monotonic timer, not the injected clock:
   * it bounds real time between processes.
   * @default 1000
   */
  cacheLeaseMs?: number;
  /** Time source for tombstone lifetimes. @default the system clock */
  clock?: Clock;
}

/**
 * Creates a store that serves reads from `cache` and keeps every session in `durable`.
 * @example
 * const store = createTieredStore({
 *   cache: createRedisStore(new Redis()),
 *   durable: createPostgresStore(new pg.Pool()),
 * });
 */
export function createTieredStore(options: TieredStoreOptions): SessionStore {
  const { cache, durable, clock, cacheTimeoutMs, tombstoneSeconds, repairIntervalMs, scope, leaseMs } =
    resolveOptions(options);
  const leases = scope === 'process' ? createLeases(leaseMs) : undefined;
  const detail = { cache: cache.kind, durable: durable.kind };
  // A cache write given up on may still land later, out of order: a key is settled only after it has.
  const writes = createCacheWrites();
  const tryCache = createTryCache(cacheTimeoutMs, detail, writes);
  const tombstones = createTombstones({
    cache,
    clock,
    tryCache,
    writes,
    tombstoneSeconds,
    liveBlockMs: 4 * cacheTimeoutMs,
    repairIntervalMs,
    detail,
  });

  /** Puts the durable store's record into the cache, or blocks the key if that fails. */
  async function update(key: string, record: SessionRecord | null, since: number): Promise<void> {
    if (record !== null && (await tryCache('set', () => cache.set(key, record), key)) !== failed) {
      // An earlier write given up on (a delete, then an older record) may still land after this one.
      if (writes.abandoned(key)) tombstones.remember(key, false);
      else tombstones.repaired(key);
      leases?.grant(key, since);
    } else {
      await tombstones.invalidate(key, false);
    }
  }

  /** Runs a durable write that kills `key` in every process's cache: tombstone here, outwait leases elsewhere. */
  async function killing<T>(key: string, write: () => Promise<T>): Promise<T> {
    const result = await write();
    const written = performance.now();
    await tombstones.invalidate(key, true);
    await leases?.outwait(written);
    return result;
  }

  const destroy = (key: string) => killing(key, () => durable.destroy(key));

  const store: SessionStore = {
    kind: 'tiered',

    get: createReadThrough({ cache, durable, clock, leases, tombstones, tryCache, detail }),

    async set(key, record) {
      const writing = performance.now();
      await durable.set(key, record);
      // The durable store ignores a set below its stored version: cache what it holds, not `record`.
      await update(key, await durable.get(key), writing);
    },

    async patch(key, patch): Promise<PatchResult> {
      const writing = performance.now();
      const write = () => durable.patch(key, patch);
      const result = await (patch.meta.successor ? killing(key, write) : write());
      // A conflict or a missing record may come from a stale cached copy the caller read: refresh it,
      // or every retry would read the same stale version again.
      await update(key, result.status === 'ok' ? result.record : await durable.get(key), writing);
      return result;
    },

    destroy,
  };

  const { listByUser, destroyByUser, prune } = durable;
  if (listByUser) store.listByUser = (userId) => listByUser.call(durable, userId);
  if (listByUser && destroyByUser) {
    // One destroy per session, so each key gets its tombstone: a bulk delete in the durable store
    // would leave a session created meanwhile alive in the cache after it died in the durable store.
    store.destroyByUser = async (userId, exceptKey) => {
      const doomed = (await listByUser.call(durable, userId)).filter((entry) => entry.key !== exceptKey);
      await Promise.all(doomed.map((entry) => destroy(entry.key)));
      return doomed.length;
    };
  }
  if (prune) store.prune = () => prune.call(durable);
  // A key removed by a concurrent kill (its lease wait still running) is absent from any later listing:
  // a revocation that listed it away must still outwait the leases other processes may hold on it.
  if (leases) store.settle = () => leases.outwait(performance.now());
  // Stops the repair timer only: the cache and durable stores are the caller's to close.
  store.close = async () => tombstones.close();
  return store;
}

/** The options, validated (in this order: the first invalid one is reported), with their defaults. */
function resolveOptions(options: TieredStoreOptions) {
  const { cache, durable } = options;
  checkStore('cache', cache);
  checkStore('durable', durable);
  if (cache === durable) throw new SessionConfigError('cache', 'must be a different store than durable');
  if (durable.kind === 'memcached') {
    throw new SessionConfigError(
      'durable',
      'memcached evicts and forgets on restart; it can only be the cache',
    );
  }
  const cacheTimeoutMs = options.cacheTimeoutMs ?? 250;
  if (!(Number.isFinite(cacheTimeoutMs) && cacheTimeoutMs > 0)) {
    throw new SessionConfigError('cacheTimeoutMs', 'must be a positive number of milliseconds');
  }
  const tombstoneSeconds = options.tombstoneSeconds ?? 60;
  if (!(Number.isFinite(tombstoneSeconds) && tombstoneSeconds > 0)) {
    throw new SessionConfigError('tombstoneSeconds', 'must be a positive number of seconds');
  }
  const repairIntervalMs = options.repairIntervalMs ?? 1000;
  if (!(Number.isFinite(repairIntervalMs) && repairIntervalMs > 0)) {
    throw new SessionConfigError('repairIntervalMs', 'must be a positive number of milliseconds');
  }
  const clock = resolveClock(options.clock);
  const scope = options.cacheScope ?? (cache.kind === 'memory' ? 'process' : 'shared');
  if (scope !== 'process' && scope !== 'shared') {
    throw new SessionConfigError('cacheScope', 'must be "process" or "shared"');
  }
  const leaseMs = options.cacheLeaseMs ?? 1000;
  if (!(Number.isFinite(leaseMs) && leaseMs >= 0 && leaseMs <= 60_000)) {
    throw new SessionConfigError('cacheLeaseMs', 'must be a number of milliseconds from 0 to 60000');
  }
  return { cache, durable, cacheTimeoutMs, tombstoneSeconds, repairIntervalMs, clock, scope, leaseMs };
}

function checkStore(option: string, store: SessionStore | undefined): void {
  if (!store || typeof store.get !== 'function' || typeof store.patch !== 'function') {
    throw new SessionConfigError(option, 'must be a SessionStore');
  }
}
