/**
 * The store contract, for the stores' imports: it lives in the core (src/core/store-contract.ts),
 * which calls it and depends on nothing above itself.
 *
 * @module
 */
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
} from '../core/store-contract.js';
