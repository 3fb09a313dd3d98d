/**
 * Loading a store-backed session, in the order a request runs through it: the cookie, one store read,
 * the refusals, the successor link of a rotated-out token, the expiry verdict and client binding, and
 * the session handed to the handler. A request without a sessionkit cookie may take a legacy session
 * over instead (`migrate`).
 */
import { bindingMismatch } from '../binding.js';
import { readCookie } from '../cookie.js';
import { isWellFormedToken, openSuccessor, tokenKey } from '../crypto.js';
import { deliver, observed, publish, type RejectReason } from '../diagnostics.js';
import type { Migrated } from '../migration.js';
import { transportFix } from '../options.js';
import { createSession, newState, stateOf } from '../session.js';
import type { SessionRecord } from '../store-contract.js';
import type { RequestInfo, Session, SessionDataShape } from '../types.js';
import { type ManagerContext, reject, type StoreContext } from './context.js';
import { adopt, type Found } from './record-state.js';
import { revokeChain } from './revocation.js';
import { expiryVerdict, reportExpired } from './shared.js';
import { freshMeta } from './store-options.js';

/** Most successor links one load (or one write) follows. */
export const MAX_SUCCESSOR_HOPS = 4;

/**
 * The session a request's `Cookie` header names, or a fresh one: a refused cookie never throws, a
 * store failure does (`ERR_SESSION_STORE`) unless `onStoreError` is `"anonymous"`.
 */
export async function load<Data extends SessionDataShape>(
  context: ManagerContext,
  header: string | readonly string[] | undefined,
  request?: RequestInfo,
): Promise<Session<Data>> {
  const { config, invalidTokens } = context;
  const values = readCookie(header, config.cookie.name);
  const now = context.clock.now();
  if (values.length === 0) {
    if (context.migrator === undefined) return fresh(context, now, request, false);
    return (await migrated<Data>(context, header, request, now)) ?? fresh(context, now, request, false);
  }
  const token = values[0];
  if (differ(values)) {
    reject(context, 'duplicate');
    return fresh(context, now, request, true);
  }
  if (token === undefined || !isWellFormedToken(token)) {
    reject(context, 'malformed');
    invalidTokens.record(request?.ip);
    return fresh(context, now, request, false);
  }
  const key = tokenKey(token);
  let found: Found | null;
  let reason: RejectReason | undefined;
  try {
    const record = await context.get(key);
    reason = refusal(context, record);
    if (record === null || reason !== undefined) found = null;
    // A record without a successor link (every read but a rotated-out token's) needs no follow: no
    // second hash of the token, no async frame.
    else if (record.meta.successor === undefined) found = { token, key, record };
    else found = await follow(context, token, record, now);
    if (found === null) reason ??= record?.meta.successor ? 'reused' : 'unknown';
  } catch (error) {
    if (!config.anonymousOnError) throw error;
    // Degraded: a fresh session that never clears (nor, at commit, replaces) the user's cookie.
    const session = fresh<Data>(context, now, request, false);
    context.degraded.add(stateOf(session));
    return session;
  }
  // A refused cookie is never cleared (only duplicates are, SEC-15): by the time this response arrives
  // the browser may hold a newer cookie, set by a login, rotation or new session answered in parallel,
  // and clearing by name would delete that one (race 5). The next session cookie replaces it.
  if (found === null) {
    reject(context, reason ?? 'unknown');
    if (reason === 'unknown' || reason === 'reused') invalidTokens.record(request?.ip);
    return fresh(context, now, request, false);
  }
  return opened(context, found, now, request, found.token !== token);
}

/** True when the cookie came with several distinct values (cookie tossing). */
function differ(values: readonly string[]): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] !== values[0]) return true;
  return false;
}

function fresh<Data extends SessionDataShape>(
  context: ManagerContext,
  now: number,
  request: RequestInfo | undefined,
  presented: boolean,
): Session<Data> {
  const state = newState(freshMeta(context.config, now, request));
  state.clearCookie = presented;
  state.insecureTransport = transportFix(context.config, request);
  return createSession<Data>(state, context.driver);
}

/** Why a record read at load is refused before any successor is followed (no store call). */
function refusal(context: StoreContext, record: SessionRecord | null): RejectReason | undefined {
  if (record === null) return 'unknown';
  // Another app sharing the store issued this token (race 6): never its session here.
  if (record.meta.audience !== context.config.audience) return 'audience';
  if (record.meta.successor?.regenerated === true) return 'regenerated';
  return undefined;
}

/**
 * Follows a rotated-out token to its live successor within the grace window. `inFlight`: the token
 * was live when this request loaded it, so every link on the way was made after that (a rotation by a
 * parallel request), never a reuse of an old token: followed whatever the grace window says.
 */
export async function follow(
  context: StoreContext,
  token: string,
  record: SessionRecord,
  now: number,
  inFlight = false,
): Promise<Found | null> {
  let current = { token, record };
  for (let hop = 0; hop < MAX_SUCCESSOR_HOPS; hop++) {
    const link = current.record.meta.successor;
    if (link === undefined)
      return { token: current.token, key: tokenKey(current.token), record: current.record };
    // A regenerated-out token is never followed (fixation): its link has no sealed successor.
    if (link.regenerated === true || link.sealed === undefined) return null;
    if (!inFlight && now > link.graceUntil) {
      publish({ type: 'reuse-detected', id: link.key, store: context.kind });
      if (context.config.revokeOnReuse) await revokeChain(context, link.key, 'reuse');
      return null;
    }
    const next = openSuccessor(current.token, link.sealed);
    if (next === null) return null;
    const nextRecord = await context.get(link.key);
    if (nextRecord === null) return null;
    current = { token: next, record: nextRecord };
  }
  return null;
}

/** The session a live lineage's record opens, once its expiry and client binding are checked. */
async function opened<Data extends SessionDataShape>(
  context: ManagerContext,
  found: Found,
  now: number,
  request: RequestInfo | undefined,
  tokenChanged: boolean,
): Promise<Session<Data>> {
  const { config, kind } = context;
  const { meta } = found.record;
  const expired = expiryVerdict(meta, now);
  if (expired !== null) {
    reportExpired(kind, found.key, expired);
    // Cleanup only: the core already refuses the record; a failure here changes nothing.
    context.store.destroy(found.key).catch(ignore);
    return fresh(context, now, request, false);
  }
  if (bindingMismatch(config.binding, meta, request)) {
    if (observed('binding-mismatch')) {
      deliver({
        type: 'binding-mismatch',
        id: found.key,
        store: kind,
        detail: { destroy: config.binding.destroy },
      });
    }
    if (config.binding.destroy) {
      await revokeChain(context, found.key, 'binding');
      reject(context, 'binding', found.key);
      return fresh(context, now, request, true);
    }
  }
  const state = newState(meta);
  adopt(state, found.token, found.key, found.record);
  state.tokenChanged = tokenChanged;
  state.insecureTransport = transportFix(config, request);
  state.rotationDue = config.rotateMs > 0 && now - (meta.rotatedAt ?? meta.createdAt) >= config.rotateMs;
  if (observed('loaded')) deliver({ type: 'loaded', id: found.key, store: kind });
  return createSession<Data>(state, context.driver);
}

function ignore(): undefined {
  return undefined;
}

/**
 * A request without a sessionkit cookie: the legacy session its cookies name, taken over (`migrate`).
 * The migrated session is a lineage like any other: its record is refused, followed and opened as a
 * presented token's would be, so a session logged out, regenerated or revoked since is never reopened.
 */
async function migrated<Data extends SessionDataShape>(
  context: ManagerContext,
  header: string | readonly string[] | undefined,
  request: RequestInfo | undefined,
  now: number,
): Promise<Session<Data> | null> {
  const { migration } = context.config;
  const migrator = context.migrator;
  const handle = migration?.find(header, request) ?? null;
  if (handle === null || migrator === undefined) return null;
  let claimed: Migrated | null;
  let reason: RejectReason | undefined;
  let found: Migrated | null;
  try {
    claimed = await migrator(handle, now, request);
    reason = claimed === null ? undefined : refusal(context, claimed.record);
    found =
      claimed === null || reason !== undefined
        ? null
        : await follow(context, claimed.token, claimed.record, now);
  } catch (error) {
    // No sessionkit cookie was presented, so an anonymous session replaces nothing; the legacy one stays.
    if (!context.config.anonymousOnError) throw error;
    return null;
  }
  if (found === null) {
    if (claimed !== null) reject(context, reason ?? 'unknown');
    return null;
  }
  const session = await opened<Data>(context, found, now, request, true);
  const state = stateOf(session);
  if (state.isNew) return session;
  context.legacyOf.set(state, handle);
  publish({ type: 'migrated', id: found.key, store: context.kind, reason: migration?.source ?? '' });
  return session;
}
