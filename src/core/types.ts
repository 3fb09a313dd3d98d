/**
 * Public types shared by the store-backed manager, the cookie-only manager and the adapters.
 */
import type { Clock } from './clock.js';

/**
 * The constraint on a session data type: any object type, so `interface` declarations work too.
 * Its values must be JSON data (checked at `set()`).
 */
export type SessionDataShape = object;

/** The data type of a session whose manager was given none: any key, unknown values. */
export type UntypedSessionData = Record<string, unknown>;

/** What the adapter knows about the request, beyond its cookies. */
export interface RequestInfo {
  /** Protocol of the connection the server saw (`'https'` for TLS sockets or https: URLs). */
  protocol?: 'http' | 'https';
  /** The `X-Forwarded-Proto` header; trusted only with the manager's `trustProxy` option. */
  forwardedProto?: string | undefined;
  /** The `User-Agent` header (for binding and the per-user session list). */
  userAgent?: string | undefined;
  /** The client IP address (for optional binding). */
  ip?: string | undefined;
  /**
   * The host the client addressed (`Host` header or URL authority). A plain-HTTP request to
   * `localhost` from a loopback `ip` may carry the Secure session cookie: browsers keep it there.
   */
  host?: string | undefined;
}

/** Cookie attributes. They mirror the `Set-Cookie` header. */
export interface CookieOptions {
  /**
   * Cookie name. A `__Host-` name forces `Secure`, `Path=/` and no `Domain` (SEC-10).
   * @default "__Host-sid" ("sid" with `insecureDevCookies`)
   */
  name?: string;
  /**
   * `Secure` attribute. `false` is allowed only together with the manager's `insecureDevCookies`.
   * @default true
   */
  secure?: boolean;
  /** @default "lax" */
  sameSite?: 'lax' | 'strict' | 'none';
  /** `Domain` attribute; not allowed with a `__Host-` name. @default undefined (host-only) */
  domain?: string;
  /** `Path` attribute; a path other than `/` needs a `__Secure-` (or unprefixed) name. @default "/" */
  path?: string;
  /**
   * `Max-Age` in seconds, making the cookie persistent. Capped at the remaining absolute lifetime
   * and at 400 days. @default undefined (a browser-session cookie, SEC-12)
   */
  maxAge?: number;
}

/** One of a user's sessions, as `listUserSessions` reports it. Never holds a token. */
export interface UserSessionInfo {
  /** Public handle of the session (safe to show, log and pass to `revokeUserSessions`). */
  id: string;
  createdAt: number;
  lastSeenAt: number;
  authenticatedAt?: number;
  userAgent?: string;
  /** True for the session of the request that asked. */
  current: boolean;
}

/** The session of one request. */
/** Options of `session.login()`. */
export interface LoginOptions {
  /** Remember me: a persistent cookie (`true`) or a browser-session cookie (`false`). @default unchanged */
  remember?: boolean;
}

export interface Session<Data extends SessionDataShape = UntypedSessionData> {
  /**
   * Public handle: a hash of the token, safe to log and display. Never the token itself.
   * For a cookie-only session it is a hash of the session's random identifier.
   */
  readonly id: string;
  /** True until the session has been saved once (a request without a valid cookie). */
  readonly isNew: boolean;
  /** The logged-in user recorded by `login()`, if any. */
  readonly userId: string | undefined;
  /** Epoch ms of the last `login()`, if any. */
  readonly authenticatedAt: number | undefined;
  /** Epoch ms when the session was created. */
  readonly createdAt: number;
  /** Epoch ms when the session dies if nothing happens (min of idle and absolute expiry). */
  readonly expiresAt: number;
  /** Epoch ms when the session dies for inactivity (each touch moves it). */
  readonly idleExpiresAt: number;
  /** Epoch ms when the session dies whatever its activity (only `login()` moves it). */
  readonly absoluteExpiresAt: number;
  /** Record version (0 for a session never stored). */
  readonly version: number;
  /** How many times the token was rotated. */
  readonly rotations: number;

  /** The value under `key` (deep-frozen: change it with `set` or `update`). */
  get<K extends keyof Data & string>(key: K): Data[K] | undefined;
  /**
   * Sets `key`; throws `ERR_SESSION_VALUE` naming the key if the value cannot be stored, or if the key
   * is `__proto__`, `prototype` or a member of `Object.prototype` (`constructor`, `toString`, …).
   */
  set<K extends keyof Data & string>(key: K, value: Data[K]): void;
  /** Removes `key`. */
  delete(key: keyof Data & string): void;
  /** True when `key` holds a value. */
  has(key: keyof Data & string): boolean;
  /** The keys that hold a value. */
  keys(): Array<keyof Data & string>;
  /**
   * Atomic read-modify-write of one key: `fn` gets the current stored value and returns the new
   * one; on a concurrent change it runs again on the fresh value (compare-and-set). Resolves to
   * the value written. Pending `set`/`delete` calls are written in the same store operation.
   */
  update<K extends keyof Data & string>(
    key: K,
    fn: (current: Data[K] | undefined) => Data[K],
  ): Promise<Data[K]>;
  /** Stores a message for the next request that consumes it. */
  flash(key: string, value: unknown): void;
  /** Returns and removes a flash message. */
  consumeFlash<T = unknown>(key: string): T | undefined;
  /** The session's CSRF token (created on first use, renewed by `regenerate()`). */
  csrfToken(): string;
  /** Compares `token` with the session's CSRF token in constant time. */
  verifyCsrfToken(token: string | null | undefined): boolean;
  /** Seconds since the last `login()`, or `undefined` if never logged in. */
  authAgeSeconds(): number | undefined;
  /**
   * Issues a new token and kills the old one (the data is kept). When the promise resolves the old
   * token no longer works.
   */
  regenerate(): Promise<void>;
  /**
   * `regenerate()`, then records `userId` and the authentication time (per-user index). `userId` is
   * 1 to 256 UTF-16 code units of well-formed Unicode without U+0000 (what every store keeps exactly,
   * so no two ids share a per-user index entry); anything else rejects with `ERR_SESSION_VALUE` (key
   * `"userId"`) before any store call. `listUserSessions` and `revokeUserSessions` refuse such ids too.
   */
  login(userId: string, options?: LoginOptions): Promise<void>;
  /**
   * Remember me: `true` = a persistent cookie (Max-Age, never past the absolute timeout nor 400 days),
   * `false` = a browser-session cookie (gone when the browser closes); `undefined` = `cookie.maxAge`
   * decides. Kept in the session (record meta, sealed payload) through rotation, regenerate and login.
   */
  readonly persistent: boolean | undefined;
  /** Changes the remember-me choice; the next response carries the cookie with its new lifetime. */
  setPersistent(persistent: boolean): void;
  /** Deletes the session in the store and clears the cookie. When it resolves the token is dead. */
  destroy(): Promise<void>;
}

/** What every adapter needs: load a session from a request, commit it to `Set-Cookie` values. */
export interface SessionManager<Data extends SessionDataShape = UntypedSessionData> {
  /** The session cookie's name. */
  readonly cookieName: string;
  /** The store's kind (`"memory"`, `"redis"`, …) or `"cookie"` for cookie-only sessions. */
  readonly storeKind: string;
  /**
   * Loads the session named by the `Cookie` header(s). No cookie: no store I/O and no crypto.
   * Rejects with `ERR_SESSION_STORE` when the store fails; with the store-backed manager's
   * `onStoreError: "anonymous"` it serves a fresh session that never overwrites the cookie (SEC-48).
   */
  load(cookieHeader: string | readonly string[] | undefined, request?: RequestInfo): Promise<Session<Data>>;
  /**
   * Saves what changed (at most one store write) and resolves to the `Set-Cookie` values to send;
   * the write has landed when it resolves. Responses carrying them must also carry
   * `Cache-Control: no-store` (the adapters do that).
   */
  commit(session: Session<Data>): Promise<string[]>;
  /**
   * The `Set-Cookie` values for the session as it is now, for a response whose headers must go
   * out before `commit` (streaming). Freezes the token for this request (no rotation).
   */
  cookiesNow(session: Session<Data>): string[];
  /** A user's live sessions (public ids, never tokens). Needs a store with a per-user index. */
  listUserSessions(userId: string, current?: Session<Data>): Promise<UserSessionInfo[]>;
  /** Destroys a user's sessions, except the given session or public id; resolves to the count. */
  revokeUserSessions(userId: string, options?: { except?: Session<Data> | string }): Promise<number>;
}

/** Options shared by both managers. */
export interface LifetimeOptions {
  /**
   * Seconds of inactivity after which a session dies (OWASP: 15–30 min for low risk; NIST 800-63B
   * AAL2: 30 min). @default 1800
   */
  idleTimeoutSeconds?: number;
  /** Seconds after creation (or `login()`) after which a session dies. NIST AAL2/3: 12 h. @default 43200 */
  absoluteTimeoutSeconds?: number;
  /**
   * Seconds between expiry extensions of an unchanged session (a "touch": one store write, or one
   * re-sealed cookie). A session is therefore considered idle after between
   * `idleTimeoutSeconds - touchIntervalSeconds` and `idleTimeoutSeconds` without requests.
   * @default one tenth of idleTimeoutSeconds
   */
  touchIntervalSeconds?: number;
  /** Injectable time source. @default the system clock */
  clock?: Clock;
  /**
   * Sends a non-`Secure` cookie (named `sid`) over plain HTTP, for development from another device
   * or with an HTTP client that drops `Secure` cookies on `http://localhost`.
   * Not needed for a browser on `http://localhost`: a plain-HTTP request to a loopback host from a
   * loopback peer gets the normal `Secure` cookie, which browsers keep there. Never in production.
   * @default false
   */
  insecureDevCookies?: boolean;
  /**
   * Trust `X-Forwarded-Proto` to decide whether a request came over HTTPS (set it behind a
   * TLS-terminating proxy). A cookie held back for its transport raises one process warning,
   * `SESSIONKIT_INSECURE_TRANSPORT`, naming this option or `insecureDevCookies`. @default false
   */
  trustProxy?: boolean;
  /** Cookie attributes. */
  cookie?: CookieOptions;
}
