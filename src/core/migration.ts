/**
 * Moving users from another session library without logging them out (`createSessionManager({ migrate })`).
 *
 * A request that carries no sessionkit cookie but a legacy one the migration vouches for (a valid
 * signature, checked without I/O) gets a sessionkit session holding the legacy data; its commit retires
 * the legacy session (record destroyed, cookie cleared).
 *
 * One legacy session becomes ONE sessionkit session, however many of its first requests run at once and
 * in however many processes:
 * - in one process, concurrent loads of the same legacy session share one migration (single-flight);
 * - across processes, the processes race to write a claim record under a key derived from the legacy id
 *   (`legacyClaimToken`). `store.set` never replaces a stored record of equal version, so the first claim
 *   (version 1) wins; every process reads the claim back and adopts the session it names, destroying its
 *   own copy if it lost. The claim links to the session like a rotated-out token (the successor token
 *   sealed under the claim token), so a request arriving after the legacy record was retired, within the
 *   claim's grace window, still finds the migrated session. The guarantee needs a store whose `set` is
 *   atomic per key (every single store is; a tiered store's shared cache may briefly disagree).
 *
 * @module
 */

import { legacyClaimToken, openSuccessor, randomToken, sealSuccessor, tokenKey } from './crypto.js';
import { publish } from './diagnostics.js';
import type { RecordData, SessionMeta, SessionRecord, SessionStore } from './store-contract.js';
import type { RequestInfo } from './types.js';
import { toStorable } from './values.js';

/** What a legacy session holds, reshaped for sessionkit. */
export interface LegacyContents {
  /** The session data to start with (JSON values; a value the core would refuse at `set()` is left out). */
  data: RecordData;
  /** The logged-in user, when there is one: the new session is logged in and indexed under it. */
  userId?: string;
}

/** One legacy session named by a request's cookies, its signature already verified. */
export interface LegacyHandle {
  /** The legacy session id. Secret (it is the legacy bearer token): never logged nor stored. */
  readonly id: string;
  /** Reads the legacy record; `null` when it does not exist or has expired by `now` (epoch ms). */
  read(now: number): Promise<LegacyContents | null>;
  /** Destroys the legacy record; resolves to the `Set-Cookie` values that clear the legacy cookie. */
  retire(): Promise<string[]>;
}

/** A source of legacy sessions, e.g. `fromExpressSession(…)` from `sessionkit/migrate/express-session`. */
export interface SessionMigration {
  /** A short name for events, e.g. `"express-session"`. */
  readonly source: string;
  /**
   * The legacy session the request's cookies name, verified without I/O; `null` (with a `rejected`
   * event) when there is no legacy cookie or it is not validly signed.
   */
  find(header: string | readonly string[] | undefined, request?: RequestInfo): LegacyHandle | null;
}

/** A migrated session for the manager to adopt: its token, store key and stored record. */
export interface Migrated {
  token: string;
  key: string;
  record: SessionRecord;
}

/** What the migrator needs from the manager. */
export interface MigratorContext {
  store: SessionStore;
  /** Runs a store call with the manager's timeout and error mapping. */
  call<T>(operation: string, run: () => Promise<T>): Promise<T>;
  /** How long the claim keeps resolving to the migrated session (the rotation grace window). */
  graceMs: number;
  /** Meta of a fresh session at `now` for `request` (audience, lifetimes, client binding). */
  freshMeta(now: number, request?: RequestInfo): SessionMeta;
}

/** Creates the function the manager calls at load for a request with a legacy cookie and no sessionkit one. */
export function createMigrator(
  source: string,
  context: MigratorContext,
): (handle: LegacyHandle, now: number, request?: RequestInfo) => Promise<Migrated | null> {
  const { store, call } = context;
  const inFlight = new Map<string, Promise<Migrated | null>>();

  /** The session a claim record links to, or null when there is no live claim or its session is gone. */
  async function followClaim(claimToken: string, claim: SessionRecord | null, now: number) {
    const link = claim?.meta.successor;
    if (link?.sealed === undefined || now > link.graceUntil) return null;
    const token = openSuccessor(claimToken, link.sealed);
    if (token === null) return null;
    const record = await call('get', () => store.get(link.key));
    return record === null ? null : { token, key: link.key, record };
  }

  async function migrateOnce(handle: LegacyHandle, now: number, request?: RequestInfo) {
    const claimToken = legacyClaimToken(handle.id);
    const claimKey = tokenKey(claimToken);
    const claim = await call('get', () => store.get(claimKey));
    if (claim !== null) {
      // Migrated before: within the grace window its session (if it still lives) is this one; after it,
      // or once that session was logged out or revoked, never again from the legacy store.
      const claimed = await followClaim(claimToken, claim, now);
      if (claimed === null) publish({ type: 'rejected', reason: 'legacy-reused', store: source });
      return claimed;
    }
    const legacy = await call('migrate', () => handle.read(now));
    if (legacy === null) {
      // Another process may have migrated and retired it since the claim was read: its claim came first.
      const late = await followClaim(claimToken, await call('get', () => store.get(claimKey)), now);
      if (late === null) publish({ type: 'rejected', reason: 'legacy-unknown', store: source });
      return late;
    }
    const token = randomToken();
    const key = tokenKey(token);
    const record: SessionRecord = {
      data: storable(legacy.data, source),
      version: 1,
      meta: metaFor(legacy, now, request),
    };
    await call('set', () => store.set(key, record));
    const until = now + context.graceMs;
    const link = { key, sealed: sealSuccessor(claimToken, token), graceUntil: until };
    // The claim outlives the grace window as long as the session could live, so that a session logged
    // out meanwhile is never migrated again from a legacy record whose retirement failed.
    const claimMeta = {
      ...context.freshMeta(now),
      expiresAt: record.meta.absoluteExpiresAt,
      successor: link,
    };
    // Of the processes racing here, the first set (version 1) wins.
    await call('set', () => store.set(claimKey, { data: {}, version: 1, meta: claimMeta }));
    const winner = await followClaim(claimToken, await call('get', () => store.get(claimKey)), now);
    if (winner === null || winner.key === key) return { token, key, record };
    // Another process claimed this legacy session first: its session is the one.
    await call('destroy', () => store.destroy(key));
    return winner;
  }

  function metaFor(legacy: LegacyContents, now: number, request?: RequestInfo): SessionMeta {
    const meta = context.freshMeta(now, request);
    return legacy.userId === undefined ? meta : { ...meta, userId: legacy.userId, authenticatedAt: now };
  }

  return (handle, now, request) => {
    const claimKey = tokenKey(legacyClaimToken(handle.id));
    let pending = inFlight.get(claimKey);
    if (pending === undefined) {
      pending = migrateOnce(handle, now, request).finally(() => inFlight.delete(claimKey));
      inFlight.set(claimKey, pending);
    }
    return pending;
  };
}

/** The legacy data the core can store; a value `session.set()` would refuse is left out, with an event. */
function storable(data: RecordData, source: string): RecordData {
  const out: RecordData = {};
  let dropped = 0;
  for (const [key, value] of Object.entries(data)) {
    try {
      // defineProperty: a legacy key named "__proto__" stays data.
      Object.defineProperty(out, key, {
        value: toStorable(key, value),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } catch {
      dropped++;
    }
  }
  if (dropped > 0) publish({ type: 'decode-error', store: source, detail: { dropped } });
  return out;
}
