/**
 * Which keys a session may hold and which user ids `login()` takes: sessionkit's reserved keys (flash
 * messages, the CSRF token), names that reach a prototype, and the user id rules every store keeps.
 */
import { SessionValueError } from '../errors.js';
import type { RecordData } from './store-contract.js';
import { isPortableText } from './values.js';

/** Keys under this prefix hold sessionkit's own values (flash messages, the CSRF token). */
export const RESERVED_PREFIX = '__sk.';
export const FLASH_PREFIX = `${RESERVED_PREFIX}flash.`;
export const CSRF_KEY = `${RESERVED_PREFIX}csrf`;

/**
 * Names a session key may not have: `__proto__` and `prototype`, and every member of `Object.prototype`
 * (ECMA-262 §20.1.3). On a plain object such a name reads an inherited member when the key is absent
 * (`data.constructor` is `Object`, `data.__proto__` is `Object.prototype`), so a caller that reads or
 * merges session data through ordinary property access could reach, or write through, a prototype:
 * `__proto__` assigns the prototype itself, `constructor` → `prototype` is the second step of the
 * classic pollution path. A fixed list, not `key in Object.prototype`, so which keys an app may use
 * never depends on what other code added to `Object.prototype`.
 */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set([
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
export function isDataKey(data: RecordData, key: string): boolean {
  return Object.hasOwn(data, key) && !UNSAFE_KEYS.has(key);
}

/** Refuses a key `set`/`update`/`delete` (or, without the reserved-prefix rule, `flash`) cannot use. */
export function checkKey(key: string, reservable = false): void {
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

/** Refuses a remember-me flag (`remember`, `persistent`) that is not a boolean. */
export function persistentFlag(value: unknown, name: string): void {
  if (typeof value !== 'boolean') throw new SessionValueError(name, 'must be true or false');
}
