/**
 * The Redis store's hash layout and replies: data keys as hash fields, HGETALL hashes into records
 * (through the record codec), meta fields, sets.
 */
import type { RecordData, SessionMeta, SessionRecord } from '../types.js';
import { type Decoded, DecodeError, decodeMeta, decodeRecordText, parseJson } from './record-codec.js';

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
 * The record from a HGETALL reply: `null` for an empty hash (no record), a `DecodeError` for a hash that
 * does not decode. The fields are joined into one JSON text and parsed once, which measured faster than
 * parsing each field (bench/micro/redis-decode.ts); JSON.parse keeps a data key named `__proto__` an own
 * property.
 */
export function decodeHash(reply: unknown): Decoded<SessionRecord | null> {
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
  return decodeRecordText(`{"v":${version},"m":${meta},"d":{${data}}}`);
}

/** The meta field's text, or `null` when it is absent or does not decode. */
export function parseMeta(value: unknown): SessionMeta | null {
  const meta = decodeMeta(parseJson(value));
  return meta instanceof DecodeError ? null : meta;
}

/** The hash field of a data key: `d:` and the key as a JSON string, so the fields join into JSON unparsed. */
export const dataField = (name: string): string => `d:${JSON.stringify(name)}`;

/** The field/value pairs of data keys (values as JSON text). */
export const dataFields = (data: RecordData): string[] =>
  Object.entries(data).flatMap(([name, value]) => [dataField(name), JSON.stringify(value)]);
