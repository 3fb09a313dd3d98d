/**
 * Public entry `sessionkit/stores/memory`: a bounded in-process store for development, tests and
 * single-process apps. Sessions are lost on restart and are not shared between processes.
 *
 * @module
 */
import { type Clock, resolveClock } from '../core/clock.js';
import { seconds } from '../core/options.js';
import { deepFreeze } from '../core/values.js';
import { SessionConfigError } from '../errors.js';
import { applyPatch, patchedData, startInterval } from './internal/store-support.js';
import type { PatchResult, SessionEntry, SessionPatch, SessionRecord, SessionStore } from './types.js';

/** Options of `createMemoryStore`. */
export interface MemoryStoreOptions {
  /**
   * Most sessions held at once (SEC-49); when full, the least recently used one is evicted (reads and
   * writes count as use). @default 10000
   */
  maxEntries?: number;
  /** Seconds between sweeps that delete expired sessions; 0 disables the timer. @default 60 */
  sweepIntervalSeconds?: number;
  /** Time source for expiry. @default the system clock */
  clock?: Clock;
}

/** The memory store: a `SessionStore` with a per-user index, `prune`, `close` and its entry count. */
export interface MemoryStore extends SessionStore {
  readonly kind: 'memory';
  /** Entries held now, including expired ones the sweep has not removed yet. */
  readonly size: number;
  listByUser(userId: string): Promise<SessionEntry[]>;
  destroyByUser(userId: string, exceptKey?: string): Promise<number>;
  /** Sweeps now: deletes every entry past `meta.expiresAt`; resolves to how many. */
  prune(): Promise<number>;
  /** Stops the sweep timer (the entries stay readable). */
  close(): Promise<void>;
}

const WARNING_CODE = 'SESSIONKIT_MEMORY_STORE';
let warnedInProduction = false;

/**
 * Creates an in-memory store holding deep copies of the records. An entry past `meta.expiresAt` is never
 * returned (get, patch and the per-user index treat it as absent and delete it); the sweep timer removes
 * the ones nobody asks for.
 * @example
 * const manager = createSessionManager({ store: createMemoryStore({ maxEntries: 50_000 }) });
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new SessionConfigError('maxEntries', 'must be a whole number of at least 1');
  }
  const sweepSeconds = seconds('sweepIntervalSeconds', options.sweepIntervalSeconds, 60, 0, 2_147_483);
  const clock = resolveClock(options.clock);
  warnIfProduction();

  // Map iteration follows insertion order, so re-inserting on use makes the first key the least recent.
  const entries = new Map<string, SessionRecord>();
  const byUser = new Map<string, Set<string>>();

  const index = (key: string, userId: string | undefined): void => {
    if (userId === undefined) return;
    const keys = byUser.get(userId);
    if (keys) keys.add(key);
    else byUser.set(userId, new Set([key]));
  };
  const unindex = (key: string, userId: string | undefined): void => {
    if (userId === undefined) return;
    const keys = byUser.get(userId);
    keys?.delete(key);
    if (keys?.size === 0) byUser.delete(userId);
  };
  const remove = (key: string): void => {
    const record = entries.get(key);
    if (record === undefined) return;
    entries.delete(key);
    unindex(key, record.meta.userId);
  };
  /** The entry under `key` unless it has expired (then it is deleted). */
  const live = (key: string): SessionRecord | undefined => {
    const record = entries.get(key);
    if (record !== undefined && record.meta.expiresAt < clock.now()) {
      remove(key);
      return undefined;
    }
    return record;
  };
  /** Stores `record` (already a private copy) as the most recently used entry, evicting if full. */
  const put = (key: string, record: SessionRecord): void => {
    remove(key);
    for (const oldest of entries.keys()) {
      if (entries.size < maxEntries) break;
      remove(oldest);
    }
    entries.set(key, record);
    index(key, record.meta.userId);
  };
  const sweep = (): number => {
    const now = clock.now();
    let removed = 0;
    for (const [key, record] of entries) {
      if (record.meta.expiresAt < now) {
        remove(key);
        removed++;
      }
    }
    return removed;
  };
  const stopSweeping = startInterval(sweepSeconds, sweep);

  return {
    kind: 'memory',
    get size() {
      return entries.size;
    },
    async get(key) {
      const record = live(key);
      if (record === undefined) return null;
      entries.delete(key);
      entries.set(key, record);
      // Stored records are deep-frozen private copies: handing out the record itself is safe and
      // saves a deep copy on every read (the hot path).
      return record;
    },
    async set(key, record) {
      const stored = live(key);
      if (stored !== undefined && stored.version >= record.version) return;
      put(key, frozenCopy(record));
    },
    async patch(key: string, patch: SessionPatch): Promise<PatchResult> {
      const result = applyPatch(live(key), patch);
      // The previous record leaves the store here, so the result may share its values with the caller.
      if (result.status === 'ok') put(key, patchedCopy(result.record, patch));
      return result;
    },
    async destroy(key) {
      // Read and delete in one synchronous step: nothing can run in between.
      const successor = live(key)?.meta.successor?.key ?? null;
      remove(key);
      return { successor };
    },
    async listByUser(userId) {
      const listed: SessionEntry[] = [];
      for (const key of [...(byUser.get(userId) ?? [])]) {
        const record = live(key);
        if (record !== undefined) listed.push({ key, meta: record.meta });
      }
      return listed;
    },
    async destroyByUser(userId, exceptKey) {
      let destroyed = 0;
      for (const key of [...(byUser.get(userId) ?? [])]) {
        if (key === exceptKey) continue;
        if (live(key) !== undefined) destroyed++;
        remove(key);
      }
      return destroyed;
    },
    async prune() {
      return sweep();
    },
    async close() {
      stopSweeping();
    },
  };
}

function warnIfProduction(): void {
  if (warnedInProduction || process.env.NODE_ENV !== 'production') return;
  warnedInProduction = true;
  process.emitWarning(
    'sessionkit: the memory store keeps sessions in this process only (lost on restart, not shared between ' +
      'processes); use a durable store in production',
    { code: WARNING_CODE },
  );
}

/**
 * A deep-frozen private copy of JSON data (the core admits nothing else into a record). Copied through
 * JSON rather than structuredClone: V8 builds JSON.parse's objects with in-object properties and
 * internalized keys, which holds a session in about two thirds of the heap a structured clone takes
 * (bench/growth/footprint.ts), and -0 comes back as 0, as from every other store.
 */
function frozenCopy<T>(value: T): T {
  return deepFreeze(JSON.parse(JSON.stringify(value)));
}

/**
 * The private, frozen copy of a patched record, at the cost of what the patch changed: the values it
 * set and the meta are copied; every other value is the stored record's own, already a frozen
 * private copy, and is shared (so a small change to a large session copies nothing large).
 */
const NO_KEYS: readonly string[] = Object.freeze([]);

function patchedCopy(record: SessionRecord, patch: SessionPatch): SessionRecord {
  return Object.freeze({
    data: Object.freeze(patchedData(record.data, { set: patch.set, delete: NO_KEYS }, frozenCopy)),
    version: record.version,
    meta: frozenCopy(record.meta),
  });
}
