/**
 * The tiered store's calls to its cache: each bounded by a timeout, each write tracked until it
 * settles (a write given up on may still land later), each failure published and turned into
 * `failed` so the request carries on with the durable store. Internal to the tiered store.
 */
import { describeError, publish } from '../../core/diagnostics.js';
import type { CacheWrites } from './cache-writes.js';

/** What a cache call resolves to when the cache failed or timed out. */
export const failed: unique symbol = Symbol('cache failed');

/** The store kinds of both tiers, sent with every cache event. */
export type TierDetail = { cache: string; durable: string };

/**
 * Runs a cache operation (a write when `key` is given, tracked until it settles); on failure or
 * timeout publishes `cache-error` and resolves to `failed`.
 */
export type TryCache = <T>(
  operation: string,
  run: () => Promise<T>,
  key?: string,
) => Promise<T | typeof failed>;

/** The cache caller of one tiered store. */
export function createTryCache(cacheTimeoutMs: number, detail: TierDetail, writes: CacheWrites): TryCache {
  return async function tryCache<T>(
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
  };
}
