/**
 * The `Session` object handlers touch. It keeps the data as loaded plus the pending per-key
 * changes; the manager that created it (store-backed or cookie-only) does the I/O through a
 * `SessionDriver`.
 */
import { SessionStateError, SessionValueError } from '../errors.js';
import type { SessionData, SessionMeta } from '../stores/types.js';
import { deepFreeze, toStorable } from './codec.js';
import { randomString, safeEqual } from './crypto.js';
import type { TransportFix } from './options.js';
import type { Session, SessionDataShape } from './types.js';

/** Keys under this prefix hold sessionkit's own values (flash messages, the CSRF token). */
export const RESERVED_PREFIX = '__sk.';
const FLASH_PREFIX = `${RESERVED_PREFIX}flash.`;
const CSRF_KEY = `${RESERVED_PREFIX}csrf`;

/** Marks a key deleted in the pending changes. */
export const DELETED: unique symbol = Symbol('deleted');

/** The I/O a session delegates to its manager. */
export interface SessionDriver {
  now(): number;
  /** Public id for a session that has none yet (creates its token). */
  assignId(state: SessionState): string;
  update(state: SessionState, key: string, fn: (current: unknown) => unknown): Promise<unknown>;
  regenerate(state: SessionState): Promise<void>;
  login(state: SessionState, userId: string): Promise<void>;
  destroy(state: SessionState): Promise<void>;
}

/** Everything the manager needs to know about a session; never exposed to users. */
export interface SessionState {
  /** The raw token (store-backed) — only ever written into `Set-Cookie`. */
  token: string | undefined;
  /** Store key = public id (a hash of the token). */
  key: string | undefined;
  /** Data as last loaded or written (values deep-frozen lazily on read). */
  base: SessionData;
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
  destroyed: boolean;
  /** The request presented a cookie we rejected (or destroyed): clear it if nothing replaces it. */
  clearCookie: boolean;
  /** Headers went out before commit (streaming): no more token changes in this request. */
  cookiesSent: boolean;
  /** The token is due for rotation (decided at load). */
  rotationDue: boolean;
  /** The request's transport cannot carry a Secure cookie: the option that would allow it. */
  insecureTransport: TransportFix;
  /** Manager-specific extra state (cookie-only: chunk count and key id). */
  extra: Record<string, unknown>;
}

/** True when the session has data or meta changes to write. */
export function isDirty(state: SessionState): boolean {
  return state.changes.size > 0 || state.metaChanged;
}

/** `base` with the pending changes applied (a new object; values shared, they are frozen). */
export function mergedData(state: SessionState): SessionData {
  const data: SessionData = { ...state.base };
  for (const [key, value] of state.changes) {
    if (value === DELETED) delete data[key];
    else data[key] = value;
  }
  return data;
}

/** The pending changes split the way `SessionPatch` wants them. */
export function pendingPatch(state: SessionState): { set: SessionData; delete: string[] } {
  const set: SessionData = {};
  const del: string[] = [];
  for (const [key, value] of state.changes) {
    if (value === DELETED) del.push(key);
    else set[key] = value;
  }
  return { set, delete: del };
}

/** The value of `key` as the handler sees it (pending change first). */
export function readKey(state: SessionState, key: string): unknown {
  if (state.changes.has(key)) {
    const value = state.changes.get(key);
    return value === DELETED ? undefined : value;
  }
  return state.base[key];
}

/** Drops the CSRF token (on regenerate/login): it belongs to the old privilege level; a new one is made on demand. */
export function dropCsrf(state: SessionState): void {
  state.changes.delete(CSRF_KEY);
  if (Object.hasOwn(state.base, CSRF_KEY)) state.changes.set(CSRF_KEY, DELETED);
}

const internals = new WeakMap<object, SessionState>();

/** The state behind a session created by `createSession` (throws for foreign objects). */
export function stateOf(session: object): SessionState {
  const state = internals.get(session);
  if (!state) throw new SessionStateError('this object is not a session created by this sessionkit manager');
  return state;
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0)
    throw new SessionValueError(String(key), 'keys are non-empty strings');
  if (key.startsWith(RESERVED_PREFIX)) {
    throw new SessionValueError(key, `keys starting with "${RESERVED_PREFIX}" are reserved for sessionkit`);
  }
  if (key.includes('\u0000')) throw new SessionValueError('?', 'keys cannot contain U+0000');
}

class SessionImpl<Data extends SessionDataShape> implements Session<Data> {
  readonly #state: SessionState;
  readonly #driver: SessionDriver;

  constructor(state: SessionState, driver: SessionDriver) {
    this.#state = state;
    this.#driver = driver;
    internals.set(this, state);
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
    const state = this.#state;
    if (state.changes.has(key)) {
      const value = state.changes.get(key);
      return value === DELETED ? undefined : value;
    }
    return Object.hasOwn(state.base, key) ? deepFreeze(state.base[key]) : undefined;
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
      if (!this.#state.changes.has(key) && !key.startsWith(RESERVED_PREFIX)) keys.push(key);
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
    checkKey(key);
    if (this.#state.destroyed)
      return Promise.reject(new SessionStateError('the session was destroyed in this request'));
    // The driver runs `fn` on the stored value, as often as compare-and-set needs.
    const run = (current: unknown) => fn(current as Data[K] | undefined);
    return this.#driver.update(this.#state, key, run) as Promise<Data[K]>;
  }

  flash(key: string, value: unknown): void {
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

  login(userId: string): Promise<void> {
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) {
      return Promise.reject(
        new SessionValueError('userId', 'must be a non-empty string of at most 256 characters'),
      );
    }
    return this.#guard() ?? this.#driver.login(this.#state, userId);
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
    destroyed: false,
    clearCookie: false,
    cookiesSent: false,
    rotationDue: false,
    insecureTransport: false,
    extra: {},
  };
}
