/**
 * Decoding of Redis replies for the Redis store: HGETALL hashes into records, meta JSON, sets.
 */
import { publish } from '../../core/diagnostics.js';
import type { RecordData, SessionMeta, SessionRecord } from '../types.js';
import { isMeta, isObject } from './record-shape.js';

/** A reply of field/value pairs: a flat array (RESP2), or an object or Map (RESP3, ioredis transforms). */
export function pairs(reply: unknown): Map<string, string> {
  const map = new Map<string, string>();
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const [name, value] = [reply[i], reply[i + 1]];
      if (typeof name === 'string' && typeof value === 'string') map.set(name, value);
    }
  } else if (reply instanceof Map) {
    for (const [name, value] of reply) {
      if (typeof name === 'string' && typeof value === 'string') map.set(name, value);
    }
  } else if (typeof reply === 'object' && reply !== null) {
    for (const [name, value] of Object.entries(reply)) if (typeof value === 'string') map.set(name, value);
  }
  return map;
}

export function strings(reply: unknown): string[] {
  const list = reply instanceof Set ? [...reply] : Array.isArray(reply) ? reply : [];
  return list.filter((item) => typeof item === 'string');
}

/**
 * The record from a HGETALL reply: `null` for an empty hash (no record) and for a hash that does not
 * decode (reported as `decode-error`). The fields are joined into one JSON text and parsed once, which
 * measured faster than parsing each field (bench/micro/redis-decode.ts); JSON.parse keeps a data key
 * named `__proto__` an own property.
 */
export function decodeHash(reply: unknown): SessionRecord | null {
  const list = Array.isArray(reply) ? reply : [...pairs(reply)].flat();
  if (list.length === 0) return null;
  let version = 'null';
  let meta = 'null';
  let data = '';
  for (let i = 0; i + 1 < list.length; i += 2) {
    const field: unknown = list[i];
    const value: unknown = list[i + 1];
    if (typeof field !== 'string' || typeof value !== 'string') continue;
    if (field.startsWith('d:')) data += `${data === '' ? '' : ','}${field.slice(2)}:${value}`;
    else if (field === 'm') meta = value;
    else if (field === 'v') version = value;
  }
  try {
    const parsed: unknown = JSON.parse(`{"v":${version},"m":${meta},"d":{${data}}}`);
    if (typeof parsed === 'object' && parsed !== null && 'v' in parsed && 'm' in parsed && 'd' in parsed) {
      const { v, m, d } = parsed;
      if (typeof v === 'number' && Number.isSafeInteger(v) && isMeta(m) && isObject(d)) {
        return { data: d, version: v, meta: m };
      }
    }
  } catch {
    // Reported below like any other undecodable record.
  }
  publish({ type: 'decode-error', store: 'redis' });
  return null;
}

export function parseMeta(value: unknown): SessionMeta | null {
  if (typeof value !== 'string') return null;
  try {
    const meta: unknown = JSON.parse(value);
    return isMeta(meta) ? meta : null;
  } catch {
    return null;
  }
}
