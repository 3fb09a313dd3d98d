/**
 * How a store-backed session's state follows its token and record: a token assigned, a stored record
 * adopted, a write applied.
 */
import { randomToken, tokenKey } from '../crypto.js';
import type { SessionState } from '../session.js';
import type { SessionRecord } from '../store-contract.js';

/** A live record and the token (and store key) it was reached by. */
export interface Found {
  token: string;
  key: string;
  record: SessionRecord;
}

/** The session's store key, creating its token first when it has none. */
export function ensureToken(state: SessionState): string {
  if (state.key === undefined) {
    state.token = randomToken();
    state.key = tokenKey(state.token);
    state.tokenChanged = true;
  }
  return state.key;
}

/** Takes a stored record, and the token that reached it, as the session's base. */
export function adopt(state: SessionState, token: string, key: string, record: SessionRecord): void {
  state.token = token;
  state.key = key;
  state.base = record.data;
  state.version = record.version;
  state.meta = record.meta;
  state.isNew = false;
}

/** Records a write that landed: the written record is the new base, nothing is pending. */
export function applyWritten(state: SessionState, record: SessionRecord): void {
  state.base = record.data;
  state.version = record.version;
  state.meta = record.meta;
  state.changes.clear();
  state.metaChanged = false;
}
