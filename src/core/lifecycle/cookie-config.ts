/**
 * The options of the cookie-only manager (`createCookieSessionManager`), their validation, and what
 * its load and commit modules share: the resolved config, the context, a sealed session's meta and
 * its public id. Every mistake throws `ERR_SESSION_CONFIG` naming the option, at construction.
 */
import { maxHeaderSize } from 'node:http';
import { SessionConfigError } from '../../errors.js';
import { chunkCapacity, headerCapacity, MAX_CHUNKS } from '../cookie-chunks.js';
import { randomString, tokenKey } from '../crypto.js';
import type { InvalidTokenOptions } from '../invalid-tokens.js';
import { lifetimeMeta, type ResolvedLifetimes, resolveLifetimes, wholeNumber } from '../options.js';
import { createKeyring, type Keyring } from '../sealed.js';
import type { SessionDriver, SessionState } from '../session-state.js';
import type { SessionMeta } from '../store-contract.js';
import type { LifetimeOptions } from '../types.js';

/** Options of `createCookieSessionManager`. */
export interface CookieSessionManagerOptions extends LifetimeOptions {
  /**
   * Secrets the keys are derived from (HKDF-SHA-256), current first: `[current, ...previous]`. The
   * first seals, all open, and a session opened with a previous one is re-sealed with the current
   * one on that response. Each holds at least 32 random bytes; at most 4; no repeats. Drop a previous
   * secret once `absoluteTimeoutSeconds` has passed since it was replaced.
   */
  secrets: ReadonlyArray<string | Uint8Array>;
  /**
   * Cookies one session may span (`<name>`, `<name>.1`, …, each at most 4096 bytes of name and
   * value); a bigger session makes `commit` reject with `ERR_SESSION_TOO_LARGE`. `maxCookieBytes`
   * usually binds first.
   * @default 4
   */
  maxCookies?: number;
  /**
   * Bytes the session cookies may add to a request's `Cookie` header, all chunks together. The
   * server refuses a request whose headers exceed its limit (Node.js: `http.maxHeaderSize`, 16 KiB,
   * answered 431 before any app code runs), so a bigger session would lock the browser out; it makes
   * `commit` reject with `ERR_SESSION_TOO_LARGE` (413) instead, and no cookie changes. The default
   * leaves 4 KiB for the rest of a browser's request (request line, Referer, other headers and
   * cookies). Raise it only together with the server's header limit.
   * @default http.maxHeaderSize - 4096 (12288 with Node's default limit)
   */
  maxCookieBytes?: number;
  /**
   * Revocation hook (SEC-33), consulted on every request that carries a logged-in session: a session
   * of `userId` authenticated before the returned epoch ms is rejected as `revoked`. Without it, a
   * sealed cookie copied before logout stays valid until it expires. A rejection (or throw) fails the
   * load with `ERR_SESSION_STORE`. @default undefined (no revocation)
   */
  notBefore?: (userId: string) => number | undefined | Promise<number | undefined>;
  /**
   * Seals per key after which a `key-usage` event and a process warning (once per key) say it is
   * time to rotate (AES-GCM with random nonces must stay far below 2^32 seals per key, SEC-38).
   * Counted in this process only. @default 2**30
   */
  keyUsageWarningThreshold?: number;
  /** Counting of undecryptable cookies per client IP, raising a `bruteforce` event (SEC-41). */
  invalidTokens?: InvalidTokenOptions;
}

/** The options of a cookie-only manager after validation. */
export interface CookieConfig extends ResolvedLifetimes {
  keyring: Keyring;
  maxCookies: number;
  maxCookieBytes: number;
  capacity: number;
  /** `<name>.`, the prefix of the chunk cookies. */
  chunkPrefix: string;
  notBefore: ((userId: string) => number | undefined | Promise<number | undefined>) | undefined;
  usageThreshold: number;
}

/** What the load and commit functions of one cookie-only manager share. */
export interface CookieContext {
  readonly config: CookieConfig;
  readonly driver: SessionDriver;
  readonly invalidTokens: { record(address: string | undefined): void };
  /** Seals done in this process per kid (SEC-38). */
  readonly usage: Map<string, number>;
}

/** The `storeKind` of a cookie-only manager, in its events. */
export const KIND = 'cookie';
const PURPOSE = 'session';
/** Bytes of a sealed session's random id. */
export const SID_BYTES = 16;
/** Room left under the server's header limit for the rest of a browser's request. */
const REQUEST_RESERVE_BYTES = 4096;
/** The default cookie budget: the server's header limit minus the rest of a request (half of a small limit). */
const DEFAULT_COOKIE_BYTES = Math.max(maxHeaderSize - REQUEST_RESERVE_BYTES, Math.floor(maxHeaderSize / 2));

/** Validates the options of `createCookieSessionManager` and derives its keys. */
export function resolveCookieConfig(options: CookieSessionManagerOptions): CookieConfig {
  const base = resolveLifetimes(options);
  const keyring = createKeyring(options.secrets, { cookieName: base.cookie.name, purpose: PURPOSE });
  const maxCookies = wholeNumber('maxCookies', options.maxCookies, 4, 1, MAX_CHUNKS);
  const maxCookieBytes = wholeNumber(
    'maxCookieBytes',
    options.maxCookieBytes,
    DEFAULT_COOKIE_BYTES,
    512,
    1 << 20,
  );
  const notBefore = options.notBefore;
  if (notBefore !== undefined && typeof notBefore !== 'function') {
    throw new SessionConfigError('notBefore', 'must be a function (userId) => epoch ms | undefined');
  }
  return {
    ...base,
    keyring,
    maxCookies,
    maxCookieBytes,
    capacity: Math.min(
      chunkCapacity(base.cookie.name, maxCookies),
      headerCapacity(base.cookie.name, maxCookies, maxCookieBytes),
    ),
    chunkPrefix: `${base.cookie.name}.`,
    notBefore,
    usageThreshold: wholeNumber(
      'keyUsageWarningThreshold',
      options.keyUsageWarningThreshold,
      2 ** 30,
      1,
      2 ** 32,
    ),
  };
}

/** The meta of a sealed session with these timestamps. */
export function sealedMeta(
  config: CookieConfig,
  createdAt: number,
  lastSeenAt: number,
  absoluteExpiresAt: number,
): SessionMeta {
  const { idleExpiresAt, expiresAt } = lifetimeMeta(config, createdAt, lastSeenAt, absoluteExpiresAt);
  // Built field by field: a spread here was 6 % of an in-process cookie-only read.
  // The AEAD data binds the cookie name already; the audience records it for the shared meta shape.
  return { createdAt, lastSeenAt, idleExpiresAt, absoluteExpiresAt, expiresAt, audience: config.cookie.name };
}

/** The public id of a cookie-only session (a hash of its sealed id), made on first use. */
export function publicId(state: SessionState): string {
  if (state.key === undefined) {
    state.token ??= randomString(SID_BYTES);
    state.key = tokenKey(state.token);
  }
  return state.key;
}
