/**
 * The `Session` object handlers touch. It keeps the data as loaded plus the pending per-key
 * changes (its `SessionState`); the manager that created it (store-backed or cookie-only) does the
 * I/O through a `SessionDriver`.
 */
import { SessionStateError } from '../errors.js';
import { randomString, safeEqual } from './crypto.js';
import { markPersistent } from './lifecycle/shared.js';
import {
  CSRF_KEY,
  checkKey,
  checkUserId,
  FLASH_PREFIX,
  persistentFlag,
  RESERVED_PREFIX,
  UNSAFE_KEYS,
} from './session-keys.js';
import { DELETED, readKey, type SessionDriver, type SessionState } from './session-state.js';
import type { LoginOptions, Session, SessionDataShape } from './types.js';
import { toStorable } from './values.js';

// A manager imports the session, its state and the key rules it applies from this one module.
export { checkUserId } from './session-keys.js';
export {
  dropCsrf,
  isDirty,
  mergedData,
  newState,
  pendingPatch,
  readKey,
  type SessionDriver,
  type SessionState,
} from './session-state.js';

/** The state behind a session created by `createSession` (throws for foreign objects). */
export function stateOf(session: object): SessionState {
  const state = SessionImpl.stateOf(session);
  if (!state) throw new SessionStateError('this object is not a session created by this sessionkit manager');
  return state;
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

/** Creates the session object for `state`. */
export function createSession<Data extends SessionDataShape>(
  state: SessionState,
  driver: SessionDriver,
): Session<Data> {
  return new SessionImpl<Data>(state, driver);
}
