/**
 * What every lifecycle step of the store-backed manager works with, built once per manager: the
 * resolved options, the store and how it is called (timeout, `ERR_SESSION_STORE`, `store-error`
 * events), the invalid-token monitor, the migrator, and the per-manager side tables.
 */
import { SessionStoreError } from '../../errors.js';
import type { Clock } from '../clock.js';
import { withinDeadline } from '../deadline.js';
import { describeError, publish, type RejectReason } from '../diagnostics.js';
import { createInvalidTokenMonitor } from '../invalid-tokens.js';
import { createMigrator, type LegacyHandle, type Migrated } from '../migration.js';
import type { SessionDriver, SessionState } from '../session.js';
import type { SessionRecord, SessionStore } from '../store-contract.js';
import type { RequestInfo } from '../types.js';
import { publishRejected } from './shared.js';
import { freshMeta, type Resolved, resolve, type SessionManagerOptions } from './store-options.js';

/** Takes a legacy session over at load (`migrate`): the migrated session, or null. */
export type Migrator = (handle: LegacyHandle, now: number, request?: RequestInfo) => Promise<Migrated | null>;

/** The store-backed manager's resolved options, store, monitors and store-call helpers. */
export interface StoreContext {
  readonly config: Resolved;
  readonly store: SessionStore;
  /** The store's `kind`, named in events and errors. */
  readonly kind: string;
  readonly clock: Clock;
  readonly invalidTokens: ReturnType<typeof createInvalidTokenMonitor>;
  /** Set when `migrate` is. */
  readonly migrator: Migrator | undefined;
  /** Sessions migrated in this request, with the legacy session to retire at their commit. */
  readonly legacyOf: WeakMap<SessionState, LegacyHandle>;
  /** Sessions served while the store failed (onStoreError "anonymous"): never stored, never a cookie. */
  readonly degraded: WeakSet<SessionState>;
  /** `error` of a store `operation` as ERR_SESSION_STORE, published as a `store-error` event. */
  storeFailure(operation: string, error: unknown): SessionStoreError;
  /** Runs a store call within `storeTimeoutMs` (when set); a failure rejects with ERR_SESSION_STORE. */
  call<T>(operation: string, run: () => Promise<T>): Promise<T>;
  /** `store.get(key)` as a store call; without a timeout it allocates no closure (the read path). */
  get(key: string): Promise<SessionRecord | null>;
}

/** A `StoreContext` with the driver the sessions it creates delegate their I/O to. */
export interface ManagerContext extends StoreContext {
  readonly driver: SessionDriver;
}

/** Validates `options` (ERR_SESSION_CONFIG) and builds the context every lifecycle step takes. */
export function createStoreContext(options: SessionManagerOptions): StoreContext {
  const config = resolve(options);
  const { store, clock } = config;
  const kind = store.kind;

  function storeFailure(operation: string, error: unknown): SessionStoreError {
    publish({ type: 'store-error', store: kind, reason: operation, error: describeError(error) });
    return error instanceof SessionStoreError
      ? error
      : new SessionStoreError(kind, operation, { cause: error });
  }

  // One rejection handler per operation name, made on first use: a store call allocates no closure
  // and no async frame of its own on top of the store's promise.
  const rethrowAs = new Map<string, (error: unknown) => never>();
  function rethrow(operation: string): (error: unknown) => never {
    let handler = rethrowAs.get(operation);
    if (handler === undefined) {
      handler = (error) => {
        throw storeFailure(operation, error);
      };
      rethrowAs.set(operation, handler);
    }
    return handler;
  }

  function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      const pending =
        config.storeTimeoutMs > 0 ? withinDeadline(kind, operation, config.storeTimeoutMs, run) : run();
      return Promise.resolve(pending).then(undefined, rethrow(operation));
    } catch (error) {
      return Promise.reject(storeFailure(operation, error));
    }
  }

  function get(key: string): Promise<SessionRecord | null> {
    if (config.storeTimeoutMs > 0) return call('get', () => store.get(key));
    try {
      return Promise.resolve(store.get(key)).then(undefined, rethrow('get'));
    } catch (error) {
      return Promise.reject(storeFailure('get', error));
    }
  }

  const migration = config.migration;
  const migrator =
    migration &&
    createMigrator(migration.source, {
      store,
      call,
      graceMs: config.graceMs,
      freshMeta: (now, request) => freshMeta(config, now, request),
    });
  return {
    config,
    store,
    kind,
    clock,
    migrator,
    legacyOf: new WeakMap(),
    invalidTokens: createInvalidTokenMonitor(options.invalidTokens, clock),
    degraded: new WeakSet(),
    storeFailure,
    call,
    get,
  };
}

/** Publishes a `rejected` event (built only when someone subscribes; counted always). */
export function reject(context: StoreContext, reason: RejectReason, id?: string): void {
  publishRejected(context.kind, reason, id);
}
