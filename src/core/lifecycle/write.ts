/**
 * Writing a loaded session back with one patch: the commit's write (changes or a touch),
 * `session.update()`'s compare-and-set, and what both do when a parallel request moved the record
 * (a rotation: follow it) or ended its lineage (revoked, regenerated out: the write is not applied).
 */
import { SessionConflictError, SessionStateError } from '../../errors.js';
import { backoff, CAS_BACKOFF_CEILING_MS } from '../backoff.js';
import { deliver, observed, publish } from '../diagnostics.js';
import { isDirty, pendingPatch, readKey, type SessionState } from '../session.js';
import { toStorable } from '../values.js';
import type { StoreContext } from './context.js';
import { follow, MAX_SUCCESSOR_HOPS } from './load.js';
import { adopt, applyWritten } from './record-state.js';
import { touched, updateLocally } from './shared.js';

/**
 * The lineage was revoked (logout, revoke-all) or regenerated out (a login elsewhere) by a parallel
 * request: this request's write is not applied and it ends anonymous. 409, not 500: the client raced
 * another request of its own, nothing is broken on the server (docs/decisions.md).
 */
export function gone(
  message = 'the session was revoked or replaced by a parallel request',
): SessionStateError {
  return new SessionStateError(message, 409);
}

/**
 * Re-reads a record that a write found missing: a concurrent rotation moved it (follow it, whenever it
 * happened: this request loaded the token live) or it is gone. A read still showing the record live (a
 * cache that has not caught up) is adopted, so the caller retries its write.
 */
export async function relocate(context: StoreContext, state: SessionState, now: number): Promise<boolean> {
  const key = state.key;
  const token = state.token;
  if (key === undefined || token === undefined) return false;
  const record = await context.get(key);
  if (record !== null && !record.meta.successor) {
    state.base = record.data;
    state.version = record.version;
    state.meta = record.meta;
    return true;
  }
  const found = record === null ? null : await follow(context, token, record, now, true);
  if (found === null) {
    // Revoked, or replaced by a login/regenerate elsewhere: this request's changes are not applied and
    // it sends no Set-Cookie (the browser may hold the new token already, race 5).
    publish({ type: 'write-to-missing', id: key, store: context.kind });
    state.destroyed = true;
    state.clearCookie = false;
    state.changes.clear();
    return false;
  }
  const changes = new Map(state.changes);
  adopt(state, found.token, found.key, found.record);
  state.changes = changes;
  state.tokenChanged = true;
  return true;
}

/** Writes pending changes (or just a touch) with one patch; follows a concurrent rotation. */
export async function write(context: StoreContext, state: SessionState, now: number): Promise<void> {
  const { store, config, kind } = context;
  for (let attempt = 0; attempt < MAX_SUCCESSOR_HOPS; attempt++) {
    const key = state.key;
    if (key === undefined) return;
    const changed = isDirty(state);
    const patch = { ...pendingPatch(state), meta: touched(config, state.meta, now) };
    const result = await context.call('patch', () => store.patch(key, patch));
    if (result.status === 'ok') {
      applyWritten(state, result.record);
      const type = changed ? 'saved' : 'touched';
      if (observed(type)) deliver({ type, id: key, store: kind });
      return;
    }
    if (!(await relocate(context, state, now))) return;
  }
}

/** `session.update(key, fn)`: an atomic read-modify-write of one key (compare-and-set, retried). */
export async function update(
  context: StoreContext,
  state: SessionState,
  key: string,
  fn: (current: unknown) => unknown,
): Promise<unknown> {
  const { store, config, clock, kind } = context;
  if (state.isNew) return updateLocally(state, key, fn);
  for (let attempt = 1; attempt <= config.updateAttempts; attempt++) {
    const now = clock.now();
    const sessionKey = state.key;
    if (sessionKey === undefined) break;
    const next = toStorable(key, fn(readKey(state, key)));
    const pending = pendingPatch(state);
    const patch = {
      set: { ...pending.set, [key]: next },
      delete: pending.delete.filter((k) => k !== key),
      meta: touched(config, state.meta, now),
      ifVersion: state.version,
    };
    const result = await context.call('patch', () => store.patch(sessionKey, patch));
    if (result.status === 'ok') {
      applyWritten(state, result.record);
      publish({ type: 'saved', id: sessionKey, store: kind });
      return next;
    }
    if (result.status === 'missing') {
      if (!(await relocate(context, state, now))) throw gone();
      continue;
    }
    const current = await context.get(sessionKey);
    if (current === null || current.meta.successor) {
      if (!(await relocate(context, state, now))) throw gone();
      continue;
    }
    state.base = current.data;
    state.version = current.version;
    state.meta = current.meta;
    await backoff(attempt, CAS_BACKOFF_CEILING_MS);
  }
  throw new SessionConflictError(key, config.updateAttempts);
}
