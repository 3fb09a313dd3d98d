/**
 * Public entry `sessionkit/migrate/express-session`: serve the users of an express-session app without
 * logging them out. Pass `fromExpressSession({ secrets, store })` as `createSessionManager({ migrate })`;
 * see docs/migrating.md.
 *
 * @module
 */
import { readCookie } from '../core/cookie.js';
import { hmacBase64, safeEqual } from '../core/crypto.js';
import { publish } from '../core/diagnostics.js';
import type { LegacyContents, LegacyHandle, SessionMigration } from '../core/migration.js';
import { SessionConfigError } from '../errors.js';
import type { RecordData } from '../stores/types.js';

export type { LegacyContents, LegacyHandle, SessionMigration } from '../core/migration.js';

/** The two methods of an express-session `Store` the migration uses (connect-redis, connect-pg-simple, …). */
export interface ExpressSessionStoreLike {
  get(sid: string, callback: (error: unknown, session?: object | null) => void): void;
  destroy(sid: string, callback?: (error?: unknown) => void): void;
}

/** A legacy session as its store returns it: express-session's `cookie` beside the app's data. */
export type ExpressSessionData = RecordData & { cookie?: { expires?: string | Date | null } };

/** Options of `fromExpressSession`. */
export interface FromExpressSessionOptions {
  /** express-session's `name`. @default "connect.sid" */
  cookieName?: string;
  /** express-session's `secret`: every one of them, current first, so cookies signed with a rotated one still count. */
  secrets: string | readonly string[];
  /** The express-session store instance the old app used. */
  store: ExpressSessionStoreLike;
  /**
   * Reshapes a legacy session. @default every key but `cookie` as data, and `passport.user` (a string or
   * number) as the logged-in user
   */
  map?: (legacy: ExpressSessionData) => LegacyContents;
  /** The legacy cookie's `path` and `domain`, to clear exactly that cookie. @default path "/", no domain */
  cookie?: { path?: string; domain?: string; secure?: boolean };
}

const COOKIE_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ATTRIBUTE = /^[\x21-\x3a\x3c-\x7e]+$/;

/** The default `map`: the data without `cookie`; `passport.user` as the user when it is a string or number. */
export function defaultExpressSessionMap(legacy: ExpressSessionData): LegacyContents {
  const data: RecordData = {};
  for (const [key, value] of Object.entries(legacy)) {
    if (key !== 'cookie')
      Object.defineProperty(data, key, { value, writable: true, enumerable: true, configurable: true });
  }
  const passport = legacy.passport;
  const user =
    typeof passport === 'object' && passport !== null && 'user' in passport ? passport.user : undefined;
  return typeof user === 'string' || typeof user === 'number' ? { data, userId: String(user) } : { data };
}

/**
 * A migration from express-session: reads the signed `connect.sid` cookie (`s:<sid>.<HMAC-SHA-256, base64
 * without padding>`, verified against every secret in constant time), the legacy record through the old
 * store's own `get`, and on commit destroys it and clears the cookie.
 * @example
 * createSessionManager({ store, migrate: fromExpressSession({ secrets: [process.env.SESSION_SECRET], store: redisStore }) });
 */
export function fromExpressSession(options: FromExpressSessionOptions): SessionMigration {
  const name = options.cookieName ?? 'connect.sid';
  if (typeof name !== 'string' || !COOKIE_TOKEN.test(name)) {
    throw new SessionConfigError('cookieName', 'must be a cookie name');
  }
  const secrets = typeof options.secrets === 'string' ? [options.secrets] : options.secrets;
  if (
    !Array.isArray(secrets) ||
    secrets.length === 0 ||
    !secrets.every((s) => typeof s === 'string' && s !== '')
  ) {
    throw new SessionConfigError('secrets', 'must be a non-empty string or array of non-empty strings');
  }
  const store = options.store;
  if (typeof store?.get !== 'function' || typeof store.destroy !== 'function') {
    throw new SessionConfigError('store', 'must be an express-session Store');
  }
  const map = options.map ?? defaultExpressSessionMap;
  if (typeof map !== 'function') throw new SessionConfigError('map', 'must be a function');
  const clearing = clearingCookie(name, options.cookie ?? {});

  const rejected = (reason: string) => {
    publish({ type: 'rejected', reason, store: 'express-session' });
    return null;
  };

  function handle(sid: string): LegacyHandle {
    return {
      id: sid,
      read: async (now) => {
        const legacy = await new Promise<object | null | undefined>((resolve, reject) =>
          store.get(sid, (error, session) => (error ? reject(error) : resolve(session))),
        );
        if (typeof legacy !== 'object' || legacy === null) return null;
        const session: ExpressSessionData = { ...legacy };
        const expires = session.cookie?.expires;
        if (expires !== undefined && expires !== null && new Date(expires).getTime() <= now) return null;
        return map(session);
      },
      retire: async () => {
        await new Promise<void>((resolve, reject) =>
          store.destroy(sid, (error) => (error ? reject(error) : resolve())),
        );
        return [clearing];
      },
    };
  }

  return {
    source: 'express-session',
    find(header) {
      const values = readCookie(header, name);
      if (values.length === 0) return null;
      if (values.some((value) => value !== values[0])) return rejected('legacy-duplicate');
      const value = decode(values[0] ?? '');
      if (value === null || !value.startsWith('s:')) return rejected('legacy-unsigned');
      const dot = value.lastIndexOf('.');
      const sid = value.slice(2, dot);
      const signature = value.slice(dot + 1);
      if (dot < 2 || sid === '') return rejected('legacy-unsigned');
      // Every secret is tried, so the time taken does not say which one signed the cookie.
      let valid = false;
      for (const secret of secrets) valid = safeEqual(signature, hmacBase64(secret, sid)) || valid;
      return valid ? handle(sid) : rejected('legacy-forged');
    },
  };
}

/** express-session URI-encodes the cookie value (`s%3A…`). */
function decode(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

function clearingCookie(name: string, cookie: { path?: string; domain?: string; secure?: boolean }): string {
  const path = cookie.path ?? '/';
  if (typeof path !== 'string' || !ATTRIBUTE.test(path))
    throw new SessionConfigError('cookie.path', 'must be a path');
  const domain = cookie.domain;
  if (domain !== undefined && (typeof domain !== 'string' || !ATTRIBUTE.test(domain))) {
    throw new SessionConfigError('cookie.domain', 'must be a domain');
  }
  const attributes = `; Path=${path}${domain === undefined ? '' : `; Domain=${domain}`}; HttpOnly`;
  return `${name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${attributes}${cookie.secure ? '; Secure' : ''}`;
}
