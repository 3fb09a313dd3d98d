/**
 * The `Session` object handlers touch. It keeps the data as loaded plus the pending per-key
 * changes; the manager that created it (store-backed or cookie-only) does the I/O through a
 * `SessionDriver`.
 */
import { SessionStateError, SessionValueError } from '../errors.js';
import { randomString, safeEqual } from './crypto.js';
import { markPersistent } from './lifecycle/shared.js';
import type { TransportFix } from './options.js';
import type { RecordData, SessionMeta } from './store-contract.js';
import type { LoginOptions, Session, SessionDataShape } from './types.js';
import { freezeDecoded, isPortableText, toStorable } from './values.js';

/** Keys under this prefix hold sessionkit's own values (flash messages, the CSRF token). */
export const RESERVED_PREFIX = '__sk.';
const FLASH_PREFIX = `${RESERVED_PREFIX}flash.`;
const CSRF_KEY = `${RESERVED_PREFIX}csrf`;

/**
 * Names a session key may not have: `__proto__` and `prototype`, and every member of `Object.prototype`
 * (ECMA-262 §20.1.3). On a plain object such a name reads an inherited member when the key is absent
 * (`data.constructor` is `Object`, `data.__proto__` is `Object.prototype`), so a caller that reads or
 * merges session data through ordinary property access could reach, or write through, a prototype:
 * `__proto__` assigns the prototype itself, `constructor` → `prototype` is the second step of the
 * classic pollution path. A fixed list, not `key in Object.prototype`, so which keys an app may use
 * never depends on what other code added to `Object.prototype`.
 */
const UNSAFE_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'prototype',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/** True when `key` is a data key of `data`: an own property with a safe name (decoded records may hold others). */
function isDataKey(data: RecordData, key: string): boolean {
  return Object.hasOwn(data, key) && !UNSAFE_KEYS.has(key);
}

/** Longest user id `login()` takes, in UTF-16 code units. */
export const MAX_USER_ID_LENGTH = 256;

/**
 * Throws `ERR_SESSION_VALUE` (key `"userId"`) for a user id not every store keeps exactly: empty,
 * longer than `MAX_USER_ID_LENGTH`, with U+0000 or a lone surrogate (both would make two distinct ids
 * share one per-user index entry, or fail the store write).
 */
export function checkUserId(userId: string): void {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
    throw new SessionValueError(
      'userId',
      `must be a non-empty string of at most ${MAX_USER_ID_LENGTH} UTF-16 code units`,
    );
  }
  if (!isPortableText(userId)) {
    throw new SessionValueError('userId', 'must be well-formed Unicode without U+0000');
  }
}

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

/** The state behind a session created by `createSession` (throws for foreign objects). */
export function stateOf(session: object): SessionState {
  const state = SessionImpl.stateOf(session);
  if (!state) throw new SessionStateError('this object is not a session created by this sessionkit manager');
  return state;
}

/** Refuses a key `set`/`update`/`delete` (or, without the reserved-prefix rule, `flash`) cannot use. */
function checkKey(key: string, reservable = false): void {
  if (typeof key !== 'string' || key.length === 0)
    throw new SessionValueError(String(key), 'keys are non-empty strings');
  if (!reservable && key.startsWith(RESERVED_PREFIX)) {
    throw new SessionValueError(key, `keys starting with "${RESERVED_PREFIX}" are reserved for sessionkit`);
  }
  if (key.includes('\u0000')) throw new SessionValueError('?', 'keys cannot contain U+0000');
  if (UNSAFE_KEYS.has(key)) {
    throw new SessionValueError(key, 'the name is __proto__, prototype or a member of Object.prototype');
  }
}

class SessionImpl<Data extends SessionDataShape> implements Session<Data> {
  readonly #state: SessionState;
  readonly #driver: SessionDriver;

  constructor(state: SessionState, driver: SessionDriver) {
    this.#state = state;
    this.#driver = driver;
  }

  /**
   * The state of `session` when this class made it. A private-field brand check, exact like a
   * WeakMap lookup, without registering every session of every request in a WeakMap.
   */
  static stateOf(session: object): SessionState | undefined {
    return #state in session ? session.#state : undefined;
  }

  get id(): string {
    return this.#state.key ?? this.#driver.assignId(this.#state);
  }
  get isNew(): boolean {
    return this.#state.isNew;
  }
  get userId(): string | undefined {
    return this.#state.meta.userId;
  }
  get authenticatedAt(): number | undefined {
    return this.#state.meta.authenticatedAt;
  }
  get createdAt(): number {
    return this.#state.meta.createdAt;
  }
  get expiresAt(): number {
    return Math.min(this.#state.meta.idleExpiresAt, this.#state.meta.absoluteExpiresAt);
  }
  get idleExpiresAt(): number {
    return this.#state.meta.idleExpiresAt;
  }
  get absoluteExpiresAt(): number {
    return this.#state.meta.absoluteExpiresAt;
  }
  get version(): number {
    return this.#state.version;
  }
  get rotations(): number {
    return this.#state.meta.rotations ?? 0;
  }

  get<K extends keyof Data & string>(key: K): Data[K] | undefined {
    return this.#read(key) as Data[K] | undefined;
  }

  #read(key: string): unknown {
    return readKey(this.#state, key);
  }

  #write(key: string, value: unknown): void {
    if (this.#state.destroyed) throw new SessionStateError('the session was destroyed in this request');
    this.#state.changes.set(key, value === DELETED ? DELETED : toStorable(key, value));
  }

  set<K extends keyof Data & string>(key: K, value: Data[K]): void {
    checkKey(key);
    this.#write(key, value);
  }

  delete(key: keyof Data & string): void {
    checkKey(key);
    if (this.#read(key) !== undefined) this.#write(key, DELETED);
  }

  has(key: keyof Data & string): boolean {
    return this.#read(key) !== undefined;
  }

  keys(): Array<keyof Data & string> {
    const keys: string[] = [];
    for (const key of Object.keys(this.#state.base)) {
      if (!this.#state.changes.has(key) && !key.startsWith(RESERVED_PREFIX) && !UNSAFE_KEYS.has(key))
        keys.push(key);
    }
    for (const [key, value] of this.#state.changes) {
      if (value !== DELETED && !key.startsWith(RESERVED_PREFIX)) keys.push(key);
    }
    // The typed facade over untyped storage: only keys written through `set`/`update` are stored.
    return keys as Array<keyof Data & string>;
  }

  update<K extends keyof Data & string>(
    key: K,
    fn: (current: Data[K] | undefined) => Data[K],
  ): Promise<Data[K]> {
    // A promise-returning method rejects; it never throws.
    try {
      checkKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#state.destroyed)
      return Promise.reject(new SessionStateError('the session was destroyed in this request'));
    // The driver runs `fn` on the stored value, as often as compare-and-set needs.
    const run = (current: unknown) => fn(current as Data[K] | undefined);
    return this.#driver.update(this.#state, key, run) as Promise<Data[K]>;
  }

  flash(key: string, value: unknown): void {
    checkKey(key, true);
    this.#write(FLASH_PREFIX + key, value);
  }

  consumeFlash<T = unknown>(key: string): T | undefined {
    const value = this.#read(FLASH_PREFIX + key);
    if (value !== undefined && !this.#state.destroyed) this.#write(FLASH_PREFIX + key, DELETED);
    return value as T | undefined;
  }

  csrfToken(): string {
    const existing = this.#read(CSRF_KEY);
    if (typeof existing === 'string') return existing;
    const token = randomString(32);
    this.#write(CSRF_KEY, token);
    return token;
  }

  verifyCsrfToken(token: string | null | undefined): boolean {
    const expected = this.#read(CSRF_KEY);
    if (typeof token !== 'string' || typeof expected !== 'string') return false;
    return safeEqual(token, expected);
  }

  authAgeSeconds(): number | undefined {
    const at = this.#state.meta.authenticatedAt;
    return at === undefined ? undefined : Math.max(0, (this.#driver.now() - at) / 1000);
  }

  regenerate(): Promise<void> {
    return this.#guard() ?? this.#driver.regenerate(this.#state);
  }

  login(userId: string, options?: LoginOptions): Promise<void> {
    try {
      checkUserId(userId);
      if (options?.remember !== undefined) persistentFlag(options.remember, 'remember');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#guard() ?? this.#driver.login(this.#state, userId, options);
  }

  get persistent(): boolean | undefined {
    return this.#state.meta.persistent;
  }

  setPersistent(persistent: boolean): void {
    persistentFlag(persistent, 'persistent');
    if (this.#state.destroyed) throw new SessionStateError('the session was destroyed');
    markPersistent(this.#state, persistent);
  }

  destroy(): Promise<void> {
    if (this.#state.destroyed) return Promise.resolve();
    return this.#driver.destroy(this.#state);
  }

  #guard(): Promise<never> | undefined {
    if (this.#state.destroyed)
      return Promise.reject(new SessionStateError('the session was destroyed in this request'));
    if (this.#state.cookiesSent) {
      return Promise.reject(
        new SessionStateError('the response headers were already sent; the token cannot change'),
      );
    }
    return undefined;
  }

  toJSON(): { id: string | undefined; isNew: boolean } {
    // Never serialize data or token by accident (e.g. a handler logging the session).
    return { id: this.#state.key, isNew: this.#state.isNew };
  }
}

function persistentFlag(value: unknown, name: string): void {
  if (typeof value !== 'boolean') throw new SessionValueError(name, 'must be true or false');
}

/** Creates the session object for `state`. */
export function createSession<Data extends SessionDataShape>(
  state: SessionState,
  driver: SessionDriver,
): Session<Data> {
  return new SessionImpl<Data>(state, driver);
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
