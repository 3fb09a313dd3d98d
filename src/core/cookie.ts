/**
 * Cookie header parsing and `Set-Cookie` serialization (RFC 6265 / 6265bis), with the secure
 * defaults of docs/security.md (Defaults) checked once at construction.
 */
import { SessionConfigError } from '../errors.js';
import type { CookieOptions } from './types.js';

/** 400 days: the longest lifetime a user agent keeps a cookie (RFC 6265bis §5.5). */
const MAX_AGE_CAP_SECONDS = 400 * 24 * 3600;
// RFC 6265 §4.1.1 cookie-name is an RFC 7230 token.
const NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PATH_PATTERN = /^\/[\x21-\x3A\x3C-\x7E]*$/;
const DOMAIN_PATTERN =
  /^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Cookie settings after validation: everything the hot path needs, precomputed. */
export interface ResolvedCookie {
  name: string;
  secure: boolean;
  maxAgeSeconds: number | undefined;
  /** `; Path=/; Secure; HttpOnly; SameSite=Lax` etc., built once. */
  attributes: string;
}

/** Validates cookie options (SEC-7 to SEC-12) and precomputes the attribute string. */
export function resolveCookie(options: CookieOptions | undefined, insecureDev: boolean): ResolvedCookie {
  const secure = options?.secure ?? !insecureDev;
  if (!secure && !insecureDev) {
    throw new SessionConfigError(
      'cookie.secure',
      'false is only allowed together with insecureDevCookies: true (plain-HTTP development)',
    );
  }
  const name = options?.name ?? (secure ? '__Host-sid' : 'sid');
  if (!NAME_PATTERN.test(name)) throw new SessionConfigError('cookie.name', 'not a valid cookie name');
  const lower = name.toLowerCase();
  const host = lower.startsWith('__host-');
  const securePrefix = lower.startsWith('__secure-');
  // User agents match prefixes case-insensitively (6265bis §5.4); a mis-cased prefix is a mistake.
  if ((host && !name.startsWith('__Host-')) || (securePrefix && !name.startsWith('__Secure-'))) {
    throw new SessionConfigError(
      'cookie.name',
      'cookie prefixes must be spelled exactly "__Host-" or "__Secure-"',
    );
  }
  const path = options?.path ?? '/';
  if (!PATH_PATTERN.test(path))
    throw new SessionConfigError('cookie.path', 'must start with "/" and hold no ";"');
  const domain = options?.domain;
  if (domain !== undefined && !DOMAIN_PATTERN.test(domain)) {
    throw new SessionConfigError('cookie.domain', 'not a valid domain name');
  }
  if ((host || securePrefix) && !secure) {
    throw new SessionConfigError(
      'cookie.secure',
      `a ${host ? '__Host-' : '__Secure-'} cookie must be Secure`,
    );
  }
  if (host && domain !== undefined)
    throw new SessionConfigError('cookie.domain', 'a __Host- cookie has no Domain');
  if (host && path !== '/') {
    throw new SessionConfigError('cookie.path', 'a __Host- cookie must have Path=/ (use a __Secure- name)');
  }
  const sameSite = options?.sameSite ?? 'lax';
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    throw new SessionConfigError('cookie.sameSite', 'must be "lax", "strict" or "none"');
  }
  if (sameSite === 'none' && !secure) {
    throw new SessionConfigError(
      'cookie.sameSite',
      '"none" requires a Secure cookie (user agents drop it otherwise)',
    );
  }
  const maxAge = options?.maxAge;
  if (maxAge !== undefined && (!Number.isInteger(maxAge) || maxAge <= 0 || maxAge > MAX_AGE_CAP_SECONDS)) {
    throw new SessionConfigError(
      'cookie.maxAge',
      `must be a whole number of seconds from 1 to ${MAX_AGE_CAP_SECONDS}`,
    );
  }
  let attributes = `; Path=${path}`;
  if (domain !== undefined) attributes += `; Domain=${domain}`;
  if (secure) attributes += '; Secure';
  attributes += `; HttpOnly; SameSite=${sameSite === 'lax' ? 'Lax' : sameSite === 'strict' ? 'Strict' : 'None'}`;
  return { name, secure, maxAgeSeconds: maxAge, attributes };
}

/** A `Set-Cookie` value; `maxAgeSeconds` (when given) makes it persistent. */
export function serializeCookie(
  cookie: ResolvedCookie,
  name: string,
  value: string,
  maxAgeSeconds?: number,
): string {
  const age = maxAgeSeconds === undefined ? '' : `; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`;
  return `${name}=${value}${age}${cookie.attributes}`;
}

/** A `Set-Cookie` value that deletes the cookie (same name, path and domain; RFC 6265 §3.1). */
export function clearCookie(cookie: ResolvedCookie, name: string): string {
  return `${name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${cookie.attributes}`;
}

/**
 * Strips only SP and HTAB (RFC 6265 OWS). `String.prototype.trim` also strips U+00A0, U+FEFF and
 * other spaces, which would read `"\u00a0__Host-sid"` as `"__Host-sid"`: a prefix bypass.
 */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/**
 * Every value sent for cookie `name`, across all `Cookie` headers (HTTP/2 and HTTP/3 split them;
 * RFC 6265bis §4.2.1 asks servers to accept that). Names match exactly, so `__HOST-sid` is not
 * `__Host-sid`. Values are returned raw (our values never need decoding).
 */
export function readCookie(header: string | readonly string[] | undefined, name: string): string[] {
  if (header === undefined) return [];
  if (typeof header === 'string') return readOne(header, name, []);
  const out: string[] = [];
  for (const h of header) readOne(h, name, out);
  return out;
}

function readOne(header: string, name: string, out: string[]): string[] {
  // Fast exit for the common request that carries other cookies only.
  if (!header.includes(name)) return out;
  let start = 0;
  // The next "=" at or after `start`, searched again only once `start` has passed it: each character
  // is scanned a bounded number of times, so parsing is linear in the header length even when many
  // segments hold no "=" (a fresh search per segment would rescan the rest of the header each time).
  let eq = -1;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    if (eq !== header.length && eq < start) {
      eq = header.indexOf('=', start);
      if (eq === -1) eq = header.length;
    }
    if (eq < end && trimOws(header.slice(start, eq)) === name) {
      let value = trimOws(header.slice(eq + 1, end));
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      out.push(value);
    }
    start = end + 1;
  }
  return out;
}

/** Every cookie whose name starts with `prefix`, as [name, value] pairs, across all headers. */
export function readCookiesWithPrefix(
  header: string | readonly string[] | undefined,
  prefix: string,
): Array<[string, string]> {
  if (header === undefined) return [];
  const out: Array<[string, string]> = [];
  for (const h of typeof header === 'string' ? [header] : header) {
    if (!h.includes(prefix)) continue;
    for (const part of h.split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1) continue;
      const name = trimOws(part.slice(0, eq));
      if (name.startsWith(prefix)) out.push([name, trimOws(part.slice(eq + 1))]);
    }
  }
  return out;
}
