/**
 * What a session value may be: JSON data that every store keeps exactly (null, booleans, finite
 * numbers, strings, arrays and plain objects). Anything else is refused at `set()`, naming the key,
 * instead of failing (or silently changing) at commit.
 */
import { SessionValueError } from '../errors.js';

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * True when `text` is storable everywhere as it is: well-formed UTF-16 (a lone surrogate becomes U+FFFD
 * on its way to UTF-8, so two different strings would come back equal) and free of U+0000 (PostgreSQL
 * `text`/`jsonb` refuse it).
 */
export function isPortableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/** Deep-copies and deep-freezes `value`, or throws `SessionValueError` naming `key`. */
export function toStorable(key: string, value: unknown): unknown {
  return copy(key, value, new Set());
}

function copy(key: string, value: unknown, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
      // PostgreSQL jsonb cannot hold U+0000; refusing it everywhere keeps every store equal.
      if (value.includes('\u0000')) throw new SessionValueError(key, 'strings cannot contain U+0000');
      // A lone surrogate is not UTF-8 encodable: stores would reject it or replace it with U+FFFD.
      if (LONE_SURROGATE.test(value)) throw new SessionValueError(key, 'strings must be well-formed UTF-16');
      return value;
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new SessionValueError(key, `${value} is not representable in JSON`);
      return value;
    case 'object':
      break;
    case 'undefined':
      throw new SessionValueError(key, 'undefined is not a value; use delete() to remove a key');
    default:
      throw new SessionValueError(key, `a ${typeof value} cannot be stored (only JSON data can)`);
  }
  if (value === null) return null;
  if (seen.has(value)) throw new SessionValueError(key, 'the value contains a cycle');
  seen.add(value);
  let result: unknown;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new SessionValueError(key, 'sparse arrays cannot be stored');
      out.push(copy(key, value[i], seen));
    }
    result = Object.freeze(out);
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const kind = proto?.constructor?.name ?? 'object';
      throw new SessionValueError(
        key,
        `a ${kind} cannot be stored (only plain objects, arrays and primitives)`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '__proto__') throw new SessionValueError(key, 'object keys cannot be "__proto__"');
      if (k.includes('\u0000')) throw new SessionValueError(key, 'object keys cannot contain U+0000');
      out[k] = copy(key, v, seen);
    }
    result = Object.freeze(out);
  }
  seen.delete(value);
  return result;
}

/** Freezes a value read from a store, in place, so handlers change data only through `set`/`update`. */
export function deepFreeze<T>(value: T): T {
  return freeze(value, false);
}

/**
 * `deepFreeze` for the session's own reads: an own `__proto__` key (JSON.parse makes one from
 * `"__proto__"`; sessionkit never writes one) is dropped first, at any depth, since a handler copying
 * the value by assignment (`Object.assign`, a merge helper) would set its copy's prototype with it.
 * Values already frozen (the memory store's records, written through `set`) are left as they are.
 */
export function freezeDecoded<T>(value: T): T {
  return freeze(value, true);
}

function freeze<T>(value: T, dropProto: boolean): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  // `delete` removes an own property only; it never reaches the inherited `__proto__` accessor.
  if (dropProto && Object.hasOwn(value, '__proto__')) Reflect.deleteProperty(value, '__proto__');
  Object.freeze(value);
  for (const child of Object.values(value)) freeze(child, dropProto);
  return value;
}
