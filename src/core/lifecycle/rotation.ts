/**
 * Moving a session to a new token: rotation (the old token stays an alias for a grace window),
 * regenerate and login (the old token dies at once). Each writes the successor first, then retires
 * the old record with one compare-and-set that links the successor, so a revocation of the old token
 * always reaches the new one (the lifecycle invariant, docs/security.md).
 */
import { SessionConflictError } from '../../errors.js';
import { backoff, CAS_BACKOFF_CEILING_MS } from '../backoff.js';
import { randomToken, sealSuccessor, tokenKey } from '../crypto.js';
import { publish } from '../diagnostics.js';
import { dropCsrf, mergedData, type SessionState } from '../session.js';
import type { PatchResult, SessionMeta, SessionPatch, SessionRecord } from '../store-contract.js';
import type { LoginOptions } from '../types.js';
import type { StoreContext } from './context.js';
import { applyWritten, ensureToken } from './record-state.js';
import { makeRoom } from './revocation.js';
import { loginMeta, touched } from './shared.js';
import { gone, relocate, write } from './write.js';

/** Attempts of a regenerate/login whose compare-and-set on the old record keeps losing to parallel writes. */
const MAX_REGENERATE_ATTEMPTS = 16;

/** Rotation at commit: the record copied to a new token, the old one an alias for the grace window. */
export async function rotate(context: StoreContext, state: SessionState, now: number): Promise<void> {
  const { store, config, kind } = context;
  const oldKey = state.key;
  const oldToken = state.token;
  if (oldKey === undefined || oldToken === undefined) return;
  const token = randomToken();
  const key = tokenKey(token);
  const data = mergedData(state);
  const meta = {
    ...touched(config, state.meta, now),
    rotatedAt: now,
    rotations: (state.meta.rotations ?? 0) + 1,
  };
  const record: SessionRecord = { data, version: state.version + 1, meta };
  await context.call('set', () => store.set(key, record));
  const aliasMeta: SessionMeta = {
    ...state.meta,
    successor: { key, sealed: sealSuccessor(oldToken, token), graceUntil: now + config.graceMs },
    expiresAt: Math.min(state.meta.absoluteExpiresAt, now + config.graceMs + config.reuseMs),
  };
  const alias = { set: {}, delete: Object.keys(state.base), meta: aliasMeta, ifVersion: state.version };
  const result = await context.call('patch', () => store.patch(oldKey, alias));
  if (result.status === 'ok') {
    state.token = token;
    state.key = key;
    applyWritten(state, record);
    state.tokenChanged = true;
    publish({ type: 'rotated', id: key, store: kind, detail: { rotations: meta.rotations } });
    return;
  }
  // A concurrent request changed (or rotated) the session first: drop our copy, write normally.
  await context.call('destroy', () => store.destroy(key));
  await write(context, state, now);
}

/**
 * Moves the session to a new token (regenerate, login): (a) write the new record, (b) one compare-and-
 * set on the old record turning it into a dead alias that links the new key (never followable), so a
 * revocation of the old token reaches the new one. If (b) finds the old record gone, the lineage was
 * revoked meanwhile: the new record is removed again and nothing survives (SEC-20, race 1). `meta` is
 * the meta of the new record; `state.meta` stays the stored one until the move succeeded.
 */
export async function regenerate(
  context: StoreContext,
  state: SessionState,
  meta?: SessionMeta,
): Promise<void> {
  const { store, config, clock, kind } = context;
  dropCsrf(state);
  if (state.isNew || state.key === undefined) {
    if (meta !== undefined) state.meta = meta;
    state.key = undefined;
    ensureToken(state);
    state.metaChanged = true;
    publish({ type: 'regenerated', store: kind });
    return;
  }
  for (let attempt = 1; attempt <= MAX_REGENERATE_ATTEMPTS; attempt++) {
    const now = clock.now();
    const oldKey = state.key;
    const token = randomToken();
    const key = tokenKey(token);
    const record: SessionRecord = {
      data: mergedData(state),
      version: state.version + 1,
      meta: touched(config, meta ?? state.meta, now),
    };
    await context.call('set', () => store.set(key, record));
    let result: PatchResult;
    try {
      result = await context.call('patch', () => store.patch(oldKey, retired(context, state, key, now)));
    } catch (error) {
      // SEC-50: never leave two live tokens behind a reported failure; the old one stays valid.
      await store.destroy(key).catch(() => undefined);
      throw error;
    }
    if (result.status === 'ok') {
      state.token = token;
      state.key = key;
      applyWritten(state, record);
      state.tokenChanged = true;
      publish({ type: 'regenerated', id: key, store: kind });
      return;
    }
    // The new record must not outlive a lost compare-and-set: nobody has its token, remove it now.
    await context.call('destroy', () => store.destroy(key));
    if (!(await reread(context, state, now))) {
      throw gone('the session was revoked or replaced while its token was being renewed');
    }
    if (attempt > 1) await backoff(attempt, CAS_BACKOFF_CEILING_MS);
  }
  throw new SessionConflictError('(regenerate)', MAX_REGENERATE_ATTEMPTS);
}

/** `session.login(userId)`: room made under `maxSessionsPerUser`, then a regenerate with the login meta. */
export async function login(
  context: StoreContext,
  state: SessionState,
  userId: string,
  options?: LoginOptions,
): Promise<void> {
  const { config, clock } = context;
  if (config.maxSessionsPerUser > 0) await makeRoom(context, userId, state.key);
  await regenerate(context, state, loginMeta(config, state.meta, userId, clock.now(), options));
}

/** The patch that retires the old record of a regenerate: no data, a link nobody can follow. */
function retired(context: StoreContext, state: SessionState, successor: string, now: number): SessionPatch {
  const { config } = context;
  const meta: SessionMeta = {
    ...state.meta,
    successor: { key: successor, graceUntil: now, regenerated: true },
    // Kept through the window a revocation or a reuse report may still need the link.
    expiresAt: Math.min(state.meta.absoluteExpiresAt, now + config.graceMs + config.reuseMs),
  };
  return { set: {}, delete: Object.keys(state.base), meta, ifVersion: state.version };
}

/** Re-reads the record after a lost compare-and-set: adopts its fresh data, or follows a rotation. */
async function reread(context: StoreContext, state: SessionState, now: number): Promise<boolean> {
  const key = state.key;
  if (key === undefined) return false;
  const current = await context.get(key);
  if (current === null || current.meta.successor) return relocate(context, state, now);
  state.base = current.data;
  state.version = current.version;
  state.meta = current.meta;
  return true;
}
