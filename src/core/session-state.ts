/**
 * What a manager knows about a session during one request: the data as loaded plus the pending
 * per-key changes, the meta, and what the response must do with the cookie. Never exposed to users.
 */
import type { TransportFix } from './options.js';
import { CSRF_KEY, isDataKey, UNSAFE_KEYS } from './session-keys.js';
import type { RecordData, SessionMeta } from './store-contract.js';
import type { LoginOptions } from './types.js';
import { freezeDecoded } from './values.js';

/** Marks a key deleted in the pending changes. */
export const DELETED: unique symbol = Symbol('deleted');

/** The I/O a session delegates to its manager. */
export interface SessionDriver {
  now(): number;
  /** Public id for a session that has none yet (creates its token). */
  assignId(state: SessionState): string;
  update(state: SessionState, key: string, fn: (current: unknown) => unknown): Promise<unknown>;
  regenerate(state: SessionState): Promise<void>;
  login(state: SessionState, userId: string, options?: LoginOptions): Promise<void>;
  destroy(state: SessionState): Promise<void>;
}

/** The cookies a cookie-only session spans, as the browser holds them. */
export interface CookieChunks {
  /** Cookies the live sealed value spans. */
  chunks: number;
  /** One past the highest chunk cookie the browser may hold (leftovers from `chunks` on are cleared). */
  slots: number;
  /** The session opened with a previous key: re-seal it with the current one on this response. */
  reseal: boolean;
  /** A seal failure of `cookiesNow`, reported by `commit`. */
  error: unknown;
}

/** Everything the manager needs to know about a session; never exposed to users. */
export interface SessionState {
  /** The raw token (store-backed) — only ever written into `Set-Cookie`. */
  token: string | undefined;
  /** Store key = public id (a hash of the token). */
  key: string | undefined;
  /** Data as last loaded or written (values deep-frozen lazily on read). */
  base: RecordData;
  /** Pending per-key changes since `base`. */
  changes: Map<string, unknown>;
  meta: SessionMeta;
  version: number;
  /** True while the session has never been stored (or sealed). */
  isNew: boolean;
  /** A meta change (login) that must be written even without data changes. */
  metaChanged: boolean;
  /** The token changed during this request: the response must carry the cookie. */
  tokenChanged: boolean;
  /** The cookie's lifetime changed (remember me): the response must carry the cookie. */
  cookieChanged: boolean;
  destroyed: boolean;
  /** The request presented a cookie we rejected (or destroyed): clear it if nothing replaces it. */
  clearCookie: boolean;
  /** Headers went out before commit (streaming): no more token changes in this request. */
  cookiesSent: boolean;
  /** The token is due for rotation (decided at load). */
  rotationDue: boolean;
  /** The request's transport cannot carry a Secure cookie: the option that would allow it. */
  insecureTransport: TransportFix;
  /** What a cookie-only session knows about the cookies the browser holds (unused when store-backed). */
  cookieChunks: CookieChunks;
}

/** The fields every new `SessionState` starts with. */
export function newState(meta: SessionMeta): SessionState {
  return {
    token: undefined,
    key: undefined,
    base: {},
    changes: new Map(),
    meta,
    version: 0,
    isNew: true,
    metaChanged: false,
    tokenChanged: false,
    cookieChanged: false,
    destroyed: false,
    clearCookie: false,
    cookiesSent: false,
    rotationDue: false,
    insecureTransport: false,
    cookieChunks: { chunks: 0, slots: 0, reseal: false, error: undefined },
  };
}

/** True when the session has data or meta changes to write. */
export function isDirty(state: SessionState): boolean {
  return state.changes.size > 0 || state.metaChanged;
}

/**
 * `base` with the pending changes applied (a new object; values shared, they are frozen). Keys a
 * decoded record may hold but no session can (`__proto__`, `constructor`, …) are left out, at any depth.
 */
export function mergedData(state: SessionState): RecordData {
  const data: RecordData = {};
  for (const key of Object.keys(state.base)) {
    // Frozen as a read would be (which drops nested own `__proto__` keys): a write never carries one on.
    if (!UNSAFE_KEYS.has(key)) data[key] = freezeDecoded(state.base[key]);
  }
  for (const [key, value] of state.changes) {
    if (value === DELETED) delete data[key];
    else data[key] = value;
  }
  return data;
}

/** The pending changes split the way `SessionPatch` wants them. */
export function pendingPatch(state: SessionState): { set: RecordData; delete: string[] } {
  const set: RecordData = {};
  const del: string[] = [];
  for (const [key, value] of state.changes) {
    if (value === DELETED) del.push(key);
    else set[key] = value;
  }
  return { set, delete: del };
}

/**
 * The value of `key` as the handler sees it (pending change first), deep-frozen: own properties only,
 * so an absent key is `undefined`, never an inherited member.
 */
export function readKey(state: SessionState, key: string): unknown {
  if (state.changes.has(key)) {
    const value = state.changes.get(key);
    return value === DELETED ? undefined : value;
  }
  return isDataKey(state.base, key) ? freezeDecoded(state.base[key]) : undefined;
}

/** Drops the CSRF token (on regenerate/login): it belongs to the old privilege level; a new one is made on demand. */
export function dropCsrf(state: SessionState): void {
  state.changes.delete(CSRF_KEY);
  if (Object.hasOwn(state.base, CSRF_KEY)) state.changes.set(CSRF_KEY, DELETED);
}
