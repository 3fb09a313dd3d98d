/**
 * sessionkit: sessions for Node.js web apps.
 * @module
 */

export type { BindingOptions } from './core/binding.js';
export type { Clock } from './core/clock.js';
export { systemClock } from './core/clock.js';
export type { RejectReason, SessionEvent, SessionEventType } from './core/diagnostics.js';
export { DIAGNOSTICS_CHANNEL, getCounters } from './core/diagnostics.js';
export type { InvalidTokenOptions } from './core/invalid-tokens.js';
export type { SessionManagerOptions, StoreSessionManager } from './core/manager.js';
export { createSessionManager } from './core/manager.js';
export type { LegacyContents, LegacyHandle, SessionMigration } from './core/migration.js';
export type {
  DestroyResult,
  PatchResult,
  RecordData,
  SessionData,
  SessionEntry,
  SessionMeta,
  SessionPatch,
  SessionRecord,
  SessionStore,
  SuccessorLink,
} from './core/store-contract.js';
export type {
  CookieOptions,
  LifetimeOptions,
  LoginOptions,
  RequestInfo,
  Session,
  SessionDataShape,
  SessionManager,
  UntypedSessionData,
  UserSessionInfo,
} from './core/types.js';
export {
  type AnySessionError,
  isSessionError,
  SessionConfigError,
  SessionConflictError,
  SessionError,
  type SessionErrorCode,
  SessionLimitError,
  SessionStateError,
  SessionStoreError,
  SessionTooLargeError,
  SessionValueError,
} from './errors.js';
