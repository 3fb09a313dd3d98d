/**
 * The options of the store-backed manager (`createSessionManager`), their validation and the meta of a
 * fresh session. Every mistake throws `ERR_SESSION_CONFIG` naming the option, at construction.
 */
import { SessionConfigError } from '../../errors.js';
import { type BindingOptions, clientOf, type ResolvedBinding, resolveBinding } from '../binding.js';
import { MAX_TIMEOUT_MS } from '../deadline.js';
import type { InvalidTokenOptions } from '../invalid-tokens.js';
import type { SessionMigration } from '../migration.js';
import {
  flag,
  lifetimeMeta,
  type ResolvedLifetimes,
  resolveLifetimes,
  seconds,
  wholeNumber,
} from '../options.js';
import type { SessionMeta, SessionStore } from '../store-contract.js';
import type { LifetimeOptions, RequestInfo, SessionDataShape, SessionManager } from '../types.js';

/** Options of `createSessionManager`. */
export interface SessionManagerOptions extends LifetimeOptions {
  /** Where records live. */
  store: SessionStore;
  /** Seconds after which the token is replaced on the next response; 0 disables rotation. @default 900 */
  rotateAfterSeconds?: number;
  /** Seconds a rotated-out token keeps resolving to its session (parallel requests). @default 60 */
  rotationGraceSeconds?: number;
  /**
   * Seconds after its grace window during which a rotated-out token presented again is reported as
   * `reuse-detected` (after that it is simply unknown). @default idleTimeoutSeconds
   */
  reuseDetectionSeconds?: number;
  /** Destroy the session when a rotated-out token is reused after its grace window. @default false */
  revokeOnReuse?: boolean;
  /**
   * What a load does when the store fails: `"fail"` rejects with `ERR_SESSION_STORE` (adapters
   * answer 503); `"anonymous"` serves a fresh session that never overwrites the cookie (SEC-48).
   * @default "fail"
   */
  onStoreError?: 'fail' | 'anonymous';
  /** Compare-and-set attempts of one `session.update()` before `ERR_SESSION_CONFLICT`. @default 1000 */
  updateAttempts?: number;
  /**
   * Milliseconds a store call may take before the request fails with `ERR_SESSION_STORE` (503), so a
   * slow store cannot hold requests open; 0 waits as long as the store does. @default 0
   */
  storeTimeoutMs?: number;
  /** Bind sessions to their client's user agent and/or IP prefix (SEC-41). @default no binding */
  binding?: BindingOptions;
  /** Counting of invalid tokens per client IP, raising a `bruteforce` event (SEC-41). */
  invalidTokens?: InvalidTokenOptions;
  /**
   * Most live sessions one user may have; `login()` beyond it follows `sessionLimitPolicy` (SEC-22).
   * Needs a store with a per-user index. @default unlimited
   */
  maxSessionsPerUser?: number;
  /**
   * `"evict-oldest"` destroys the user's least recently seen sessions to make room; `"reject"` makes
   * `login()` reject with `ERR_SESSION_LIMIT`. @default "evict-oldest"
   */
  sessionLimitPolicy?: 'evict-oldest' | 'reject';
  /**
   * The app the tokens are issued for, recorded in every record and checked on load: a token issued
   * by another app sharing the store (same Redis prefix, same table) loads as anonymous. Set it (an
   * app id) whenever apps share a store. @default the cookie name
   */
  audience?: string;
  /**
   * Sessions of another library to take over on a request that has no sessionkit cookie, e.g.
   * `fromExpressSession(…)` from `sessionkit/migrate/express-session` (docs/migrating.md).
   */
  migrate?: SessionMigration;
}

/** A store-backed manager; `close()` closes the store. */
export interface StoreSessionManager<Data extends SessionDataShape> extends SessionManager<Data> {
  /** The store this manager uses. */
  readonly store: SessionStore;
  /**
   * Destroys one session of a user by its public id (e.g. a "log out that device" button).
   * Resolves to false, destroying nothing, when the id is not a live session of that user.
   */
  revokeSession(userId: string, id: string): Promise<boolean>;
  /** Closes the store (its timers and the handles it owns). */
  close(): Promise<void>;
}

export interface Resolved extends ResolvedLifetimes {
  store: SessionStore;
  rotateMs: number;
  graceMs: number;
  reuseMs: number;
  revokeOnReuse: boolean;
  anonymousOnError: boolean;
  storeTimeoutMs: number;
  binding: ResolvedBinding;
  maxSessionsPerUser: number;
  rejectOverLimit: boolean;
  updateAttempts: number;
  audience: string;
  migration: SessionMigration | undefined;
}

export function resolve(options: SessionManagerOptions): Resolved {
  const store = options.store;
  if (!store || typeof store.get !== 'function' || typeof store.patch !== 'function') {
    throw new SessionConfigError('store', 'must be a SessionStore (get, set, patch, destroy)');
  }
  const base = resolveLifetimes(options);
  const idle = base.idleMs / 1000;
  const rotate = seconds('rotateAfterSeconds', options.rotateAfterSeconds, 900, 0, 366 * 24 * 3600);
  const grace = seconds('rotationGraceSeconds', options.rotationGraceSeconds, 60, 1, 3600);
  if (rotate > 0 && grace >= rotate) {
    throw new SessionConfigError('rotationGraceSeconds', 'must be shorter than rotateAfterSeconds');
  }
  const onError = options.onStoreError ?? 'fail';
  if (onError !== 'fail' && onError !== 'anonymous') {
    throw new SessionConfigError('onStoreError', 'must be "fail" or "anonymous"');
  }
  return {
    ...base,
    store,
    rotateMs: rotate * 1000,
    graceMs: grace * 1000,
    reuseMs: seconds('reuseDetectionSeconds', options.reuseDetectionSeconds, idle, 0, 366 * 24 * 3600) * 1000,
    revokeOnReuse: flag('revokeOnReuse', options.revokeOnReuse, false),
    anonymousOnError: onError === 'anonymous',
    updateAttempts: wholeNumber('updateAttempts', options.updateAttempts, 1000, 1, 1_000_000),
    binding: resolveBinding(options.binding),
    storeTimeoutMs: wholeNumber(
      'storeTimeoutMs',
      options.storeTimeoutMs,
      0,
      0,
      MAX_TIMEOUT_MS,
      ' of milliseconds',
    ),
    maxSessionsPerUser: wholeNumber('maxSessionsPerUser', options.maxSessionsPerUser, 0, 1, 100_000),
    rejectOverLimit: limitPolicy(options.sessionLimitPolicy),
    audience: audienceOf(options.audience, base.cookie.name),
    migration: migrationOf(options.migrate),
  };
}

function migrationOf(value: unknown): SessionMigration | undefined {
  if (value === undefined) return undefined;
  if (!isMigration(value)) {
    throw new SessionConfigError('migrate', 'must be a migration such as fromExpressSession(…)');
  }
  return value;
}

function isMigration(value: unknown): value is SessionMigration {
  return typeof value === 'object' && value !== null && 'find' in value && typeof value.find === 'function';
}

function audienceOf(value: unknown, cookieName: string): string {
  if (value === undefined) return cookieName;
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new SessionConfigError('audience', 'must be a non-empty string of at most 256 characters');
  }
  return value;
}

function limitPolicy(value: unknown): boolean {
  if (value === undefined || value === 'evict-oldest') return false;
  if (value === 'reject') return true;
  throw new SessionConfigError('sessionLimitPolicy', 'must be "evict-oldest" or "reject"');
}

/** A fresh meta at `now`. */
export function freshMeta(config: Resolved, now: number, request: RequestInfo | undefined): SessionMeta {
  const meta: SessionMeta = {
    ...lifetimeMeta(config, now, now, now + config.absoluteMs),
    audience: config.audience,
  };
  const client = clientOf(request, config.binding);
  if (client !== undefined) meta.client = client;
  return meta;
}
