/**
 * The contract between the sessionkit core and a storage backend.
 *
 * A store holds records under opaque keys (the SHA-256 of a session token, base64url). The core
 * decides everything about lifetimes, tokens and rotation; a store only has to keep records, apply
 * per-key patches atomically and drop records after `meta.expiresAt` (cleanup only: the core checks
 * expiry itself with its own clock, so a store may return an expired record).
 *
 * @module
 */

/** A record's data as stored: plain JSON values by data key (the core validates every value at `set()`). */
export type RecordData = Record<string, unknown>;

/** @deprecated Renamed {@link RecordData} (it is the stored form, not the typed session data); kept as an alias. */
export type SessionData = RecordData;

/**
 * A link from a rotated-out or regenerated-out token's record to its successor (see docs/security.md,
 * the lifecycle invariant). Revocation follows these links so that no token of a lineage survives it.
 */
export interface SuccessorLink {
  /** Store key of the successor record. */
  key: string;
  /**
   * The successor token sealed under a key derived from the old token; absent for regenerate/login
   * (a regenerated-out token can never be followed).
   */
  sealed?: string;
  /** Epoch ms until which the old token still resolves to the successor. */
  graceUntil: number;
  /** true when the old token was regenerated out (login/regenerate), not rotated. */
  regenerated?: true;
}

/** Bookkeeping the core keeps beside the data. Stores persist it as one opaque value. */
export interface SessionMeta {
  /** Epoch ms when the session was created. */
  createdAt: number;
  /** Epoch ms of the last request that refreshed the idle expiry. */
  lastSeenAt: number;
  /** Epoch ms after which the session is dead for inactivity. */
  idleExpiresAt: number;
  /** Epoch ms after which the session is dead whatever its activity. */
  absoluteExpiresAt: number;
  /** Epoch ms after which the store may drop the record (TTL, prune). Always set by the core. */
  expiresAt: number;
  /** The logged-in user, when there is one; stores with a per-user index index this field. */
  userId?: string;
  /** Epoch ms of the last `login()`. */
  authenticatedAt?: number;
  /** Epoch ms of the last token rotation. */
  rotatedAt?: number;
  /** How many times the token was rotated. */
  rotations?: number;
  /** Present on the record of a token that was rotated out. */
  successor?: SuccessorLink;
  /** Free-form request context recorded at creation (user agent, IP prefix). */
  client?: { userAgent?: string; ipPrefix?: string };
  /** The app the token was issued for (checked on load). */
  audience: string;
  /**
   * Remember me: `true` = a persistent cookie (Max-Age, bounded by the absolute expiry), `false` = a
   * browser-session cookie; absent = `cookie.maxAge` decides.
   */
  persistent?: boolean;
}

/** One stored session. */
export interface SessionRecord {
  data: RecordData;
  /** Incremented by the store on every successful `patch`. */
  version: number;
  meta: SessionMeta;
}

/** An atomic per-key change to one record. */
export interface SessionPatch {
  /** Keys to set (replacing their values). */
  set: RecordData;
  /** Keys to remove. */
  delete: readonly string[];
  /** The new meta, replacing the stored one whole. */
  meta: SessionMeta;
  /** Apply only if the stored version equals this (compare-and-set); otherwise `conflict`. */
  ifVersion?: number;
}

/** What `patch` did. */
export type PatchResult =
  | { status: 'ok'; record: SessionRecord }
  | { status: 'missing' }
  | { status: 'conflict' };

/**
 * What `destroy` removed: the successor key of the removed record, so the core can revoke the rest of
 * the lineage. `null` when the record had none or did not exist.
 */
export interface DestroyResult {
  successor: string | null;
}

/** A session listed from the per-user index. */
export interface SessionEntry {
  key: string;
  meta: SessionMeta;
}

/**
 * A session store. Every method may reject; the core turns a rejection into `ERR_SESSION_STORE`.
 *
 * Rules every implementation keeps (the conformance suite in `sessionkit/testing` checks them):
 * - `get` costs one round trip and returns a record the caller may keep: a copy, or a deep-frozen
 *   record (the core never mutates what a store returns).
 * - `set` stores the whole record unless the store already holds the same key with a version
 *   greater than or equal to `record.version` (then it does nothing).
 * - `patch` applies `set`/`delete` per key and replaces `meta` in one atomic step, increments the
 *   version by one and returns the new record; a missing key is `missing` (never created), a
 *   version mismatch with `ifVersion` is `conflict` (nothing changed). A stored record whose meta
 *   has a `successor` (a rotated-out token) is never patched: that is `missing` too, so a write
 *   racing a rotation is redirected by the core instead of landing on the dead record.
 * - `destroy` removes the record and resolves to its `meta.successor.key` in ONE atomic step (a
 *   transaction, `DELETE … RETURNING`, a script): the core follows that key to revoke the whole lineage,
 *   so a successor written by a rotation racing the destroy can never be missed.
 * - every write carries a time to live derived from `meta.expiresAt`.
 */
export interface SessionStore {
  /** A short name for events and errors, e.g. `"redis"`. */
  readonly kind: string;
  get(key: string): Promise<SessionRecord | null>;
  set(key: string, record: SessionRecord): Promise<void>;
  patch(key: string, patch: SessionPatch): Promise<PatchResult>;
  destroy(key: string): Promise<DestroyResult>;
  /** Sessions of one user (per-user index); absent where the store cannot index by user. */
  listByUser?(userId: string): Promise<SessionEntry[]>;
  /** Destroys every session of one user but `exceptKey`; resolves to how many were destroyed. */
  destroyByUser?(userId: string, exceptKey?: string): Promise<number>;
  /** Deletes expired records now; resolves to how many. */
  prune?(): Promise<number>;
  /**
   * Resolves once no app process can still serve a record that was removed before this call (a
   * process-local cache serves its copies for a lease). Absent where a removal is seen at once.
   * A revocation that found a record already removed by a concurrent one waits for this.
   */
  settle?(): Promise<void>;
  /** Releases timers and handles the store owns (never a client it was given). */
  close?(): Promise<void>;
}
