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
import { describeError, publish } from '../core/diagnostics.js';
import { SessionConfigError } from '../errors.js';
import { createCacheWrites } from './internal/cache-writes.js';
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

// No real record reaches this version, and a cache keeps it against any backfill (version rule).
const TOMBSTONE_VERSION = Number.MAX_SAFE_INTEGER;
const failed: unique symbol = Symbol('cache failed');
// Bounds the memory a long cache outage can take (about 100 bytes per key).
const MAX_UNREPAIRED = 100_000;

/**
 * Creates a store that serves reads from `cache` and keeps every session in `durable`.
 * @example
 * const store = createTieredStore({
 *   cache: createRedisStore(new Redis()),
 *   durable: createPostgresStore(new pg.Pool()),
 * });
 */
export function createTieredStore(options: TieredStoreOptions): SessionStore {
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
  const leases = scope === 'process' ? createLeases(leaseMs) : undefined;
  const detail = { cache: cache.kind, durable: durable.kind };
  // Keys whose cached copy may be older than the durable record: a write could neither update nor
  // remove it. Reads here skip the cache for them; a timer blocks them once the cache answers again.
  // Keys the cache may hold wrongly, each with whether it was killed (see `invalidate`).
  const unrepaired = new Map<string, boolean>();
  const liveBlockMs = 4 * cacheTimeoutMs;
  let repairTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  // A cache write given up on may still land later, out of order: a key is settled only after it has.
  const writes = createCacheWrites();

  /**
   * Runs a cache operation (a write when `key` is given, tracked until it settles); on failure or
   * timeout publishes `cache-error` and resolves to `failed`.
   */
  async function tryCache<T>(
    operation: string,
    run: () => Promise<T>,
    key?: string,
  ): Promise<T | typeof failed> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cache ${operation} timed out`)), cacheTimeoutMs);
    });
    const write = key === undefined ? undefined : writes.track(key, run);
    try {
      return await Promise.race([write?.write ?? run(), timeout]);
    } catch (error) {
      write?.abandon();
      publish({
        type: 'cache-error',
        store: 'tiered',
        reason: operation,
        error: describeError(error),
        detail,
      });
      return failed;
    } finally {
      clearTimeout(timer);
    }
  }

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

  /** Puts the durable store's record into the cache, or blocks the key if that fails. */
  async function update(key: string, record: SessionRecord | null, since: number): Promise<void> {
    if (record !== null && (await tryCache('set', () => cache.set(key, record), key)) !== failed) {
      // An earlier write given up on (a delete, then an older record) may still land after this one.
      if (writes.abandoned(key)) remember(key, false);
      else unrepaired.delete(key);
      leases?.grant(key, since);
    } else {
      await invalidate(key, false);
    }
  }

  /** Runs a durable write that kills `key` in every process's cache: tombstone here, outwait leases elsewhere. */
  async function killing<T>(key: string, write: () => Promise<T>): Promise<T> {
    const result = await write();
    const written = performance.now();
    await invalidate(key, true);
    await leases?.outwait(written);
    return result;
  }

  const destroy = (key: string) => killing(key, () => durable.destroy(key));

  const store: SessionStore = {
    kind: 'tiered',

    async get(key) {
      // A lapsed lease (process-local cache) is a miss: another process may have changed the record.
      const lapsed = leases?.expired(key) ?? false;
      const cached = unrepaired.has(key) || lapsed ? failed : await tryCache('get', () => cache.get(key));
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
      const refill = lapsed ? !unrepaired.has(key) : cached !== failed && !tombstoned;
      if (
        record !== null &&
        refill &&
        (await tryCache('set', () => cache.set(key, record), key)) !== failed
      ) {
        leases?.grant(key, reading);
      }
      return record;
    },

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
  store.close = async () => {
    closed = true;
    clearTimeout(repairTimer);
    repairTimer = undefined;
  };
  return store;
}

/**
 * Lease start times per key, in insertion order (a renewed lease moves to the end), so expired leases
 * are dropped from the front and the map holds only live ones.
 */
function createLeases(leaseMs: number) {
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

function isTombstone(record: SessionRecord): boolean {
  return record.version === TOMBSTONE_VERSION;
}

function checkStore(option: string, store: SessionStore | undefined): void {
  if (!store || typeof store.get !== 'function' || typeof store.patch !== 'function') {
    throw new SessionConfigError(option, 'must be a SessionStore');
  }
}
