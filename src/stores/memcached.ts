/**
 * Public entry `sessionkit/stores/memcached`: one JSON record per key, patches as gets → apply → cas
 * and destroys as gets → delete-with-cas, each with a bounded retry. Memcached cannot index by user (no `listByUser`) and evicts under memory
 * pressure or on restart: put it in front of a durable store with `createTieredStore`.
 *
 * @module
 */

import { backoff } from '../core/backoff.js';
import { type Clock, resolveClock } from '../core/clock.js';
import { SessionConfigError, SessionStoreError } from '../errors.js';
import { type MemcachedItem, type MemcachedLike, memcachedWire } from './internal/memcached-wire.js';
import { decodeRecordText, encodeRecordText, reported } from './internal/record-codec.js';
import { applyPatch } from './internal/store-support.js';
import type { DestroyResult, PatchResult, SessionRecord, SessionStore } from './types.js';

export type { MemcachedLike, MemcachedResponse } from './internal/memcached-wire.js';

/** Options of `createMemcachedStore`. */
export interface MemcachedStoreOptions {
  /**
   * Prefix of every memcached key (memcached keys are at most 250 bytes, without spaces).
   * @default "sk:"
   */
  keyPrefix?: string;
  /** Time source for TTLs. @default the system clock */
  clock?: Clock;
  /**
   * How many compare-and-sets a write may lose before it rejects. Concurrent writes to one key from
   * the same store take turns instead, so only writers in other processes race.
   * @default 20
   */
  maxCasAttempts?: number;
}

// Memcached reads an expiration above 30 days as an absolute Unix time (SEC-46).
const MAX_RELATIVE_SECONDS = 2_592_000;
const KEY_PREFIX_PATTERN = /^[\x21-\x7e]{0,200}$/;

/**
 * Creates a session store on a memjs client.
 * @example
 * const store = createMemcachedStore(memjs.Client.create('127.0.0.1:11211'), { keyPrefix: 'app:' });
 */
export function createMemcachedStore(
  client: MemcachedLike,
  options: MemcachedStoreOptions = {},
): SessionStore {
  const keyPrefix = options.keyPrefix ?? 'sk:';
  if (!KEY_PREFIX_PATTERN.test(keyPrefix)) {
    throw new SessionConfigError('keyPrefix', 'use at most 200 printable ASCII characters without spaces');
  }
  const maxCasAttempts = options.maxCasAttempts ?? 20;
  if (!Number.isSafeInteger(maxCasAttempts) || maxCasAttempts < 1) {
    throw new SessionConfigError('maxCasAttempts', 'must be a positive integer');
  }
  const clock = resolveClock(options.clock);
  const wire = memcachedWire(client);
  const queues = new Map<string, Promise<unknown>>();

  // Writers of one key in this process take turns: racing them through CAS would make n concurrent
  // patches cost O(n²) round trips, and a busy session would run out of attempts.
  function inTurn<T>(key: string, run: () => Promise<T>): Promise<T> {
    const result = (queues.get(key) ?? Promise.resolve()).then(run, run);
    const tail = result.then(settled, settled);
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return result;
  }

  async function read(key: string): Promise<(MemcachedItem & { record: SessionRecord | null }) | null> {
    const item = await wire.get(keyPrefix + key);
    return item && { ...item, record: reported('memcached', decodeRecordText(item.value.toString('utf8'))) };
  }

  function write(operation: string, key: string, record: SessionRecord, cas?: Buffer): Promise<boolean> {
    const value = Buffer.from(encodeRecordText(record));
    return wire.write(operation, keyPrefix + key, value, expiration(record.meta.expiresAt, clock.now()), cas);
  }

  /** Runs `attempt` until it settles the write, backing off between lost compare-and-sets. */
  async function retried<T>(operation: string, attempt: () => Promise<T | undefined>): Promise<T> {
    for (let n = 1; n <= maxCasAttempts; n++) {
      const result = await attempt();
      if (result !== undefined) return result;
      await backoff(n, 100);
    }
    throw new SessionStoreError('memcached', operation, {
      message: `sessionkit: the memcached store lost ${maxCasAttempts} compare-and-set attempts in a row during ${operation} (too many concurrent writes to one session)`,
    });
  }

  return {
    kind: 'memcached',

    async get(key) {
      return (await read(key))?.record ?? null;
    },

    set(key, record) {
      return inTurn(key, () =>
        retried('set', async () => {
          // Read first: in a tiered store sets mostly replace a cached copy (2 round trips, not 3).
          const stored = await read(key);
          if (stored?.record && stored.record.version >= record.version) return true;
          return (await write('set', key, record, stored?.cas)) || undefined;
        }),
      ).then(settled);
    },

    patch(key, patch) {
      return inTurn(key, () =>
        retried('patch', async (): Promise<PatchResult | undefined> => {
          const stored = await read(key);
          const result = applyPatch(stored?.record ?? undefined, patch);
          if (result.status !== 'ok' || !stored) return result;
          return (await write('patch', key, result.record, stored.cas)) ? result : undefined;
        }),
      );
    },

    // gets, then a delete that presents the CAS value: the successor returned is the one of the record
    // deleted, even when a rotation patched the key in between (the delete then loses and reads again).
    destroy(key) {
      return inTurn(key, () =>
        retried('destroy', async (): Promise<DestroyResult | undefined> => {
          const stored = await read(key);
          if (!stored) return { successor: null };
          if (!(await wire.delete(keyPrefix + key, stored.cas))) return undefined;
          return { successor: stored.record?.meta.successor?.key ?? null };
        }),
      );
    },
  };
}

/** The item expiration for a record that may be dropped at `expiresAt` (never 0, "keep forever"). */
function expiration(expiresAt: number, now: number): number {
  const seconds = Math.max(1, Math.ceil((expiresAt - now) / 1000));
  return seconds > MAX_RELATIVE_SECONDS ? Math.ceil(expiresAt / 1000) : seconds;
}

function settled(): void {}
