/**
 * The one record codec of the stores: the text a store writes for a record's data, meta and whole
 * record, and the way back from what it reads (JSON text, or JSON a driver has parsed already) to a
 * `SessionRecord`, with the one strict meta check. Decoding never throws on bad stored data: it returns a
 * `DecodeError`, which every store turns into "no record" the same way (`reported`).
 */
import { publish } from '../../core/diagnostics.js';
import type { RecordData, SessionEntry, SessionMeta, SessionRecord } from '../../core/store-contract.js';
import { compactMeta, expandMeta } from './meta-layout.js';

/** The part of a stored record that did not decode. */
export type DecodePart = 'record' | 'version' | 'data' | 'meta' | 'key';

/** A stored record that did not decode, and which part failed (never the stored text: it may hold secrets). */
export class DecodeError {
  readonly part: DecodePart;
  constructor(part: DecodePart) {
    this.part = part;
  }
}

/** What a decoder returns: the value, or why it did not decode. */
export type Decoded<T> = T | DecodeError;

/**
 * The decoded value, or `null` for a `DecodeError` after publishing `decode-error` for `store` (without
 * the key or the stored text): how every store reads a record that does not decode.
 */
export function reported<T>(store: string, decoded: Decoded<T>): T | null {
  if (!(decoded instanceof DecodeError)) return decoded;
  publish({ type: 'decode-error', store });
  return null;
}

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is RecordData {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The timestamps every record's meta carries, and a string userId when there is one. */
export function isMeta(value: unknown): value is SessionMeta {
  return (
    isObject(value) &&
    typeof value.createdAt === 'number' &&
    typeof value.lastSeenAt === 'number' &&
    typeof value.idleExpiresAt === 'number' &&
    typeof value.absoluteExpiresAt === 'number' &&
    typeof value.expiresAt === 'number' &&
    (value.userId === undefined || typeof value.userId === 'string')
  );
}

/**
 * Stored JSON text parsed: `undefined` when it is not text or does not parse (the parser's message
 * may quote the text, which may hold secrets). JSON.parse keeps a key named `__proto__` an own property.
 */
export function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** JSON a driver has parsed already, as it is. */
const asParsed = (stored: unknown): unknown => stored;

/** A version as drivers return it: a number, a bigint or a decimal string (pg's bigint), a safe integer. */
export function decodeVersion(value: unknown): Decoded<number> {
  const version =
    typeof value === 'number'
      ? value
      : typeof value === 'bigint' || (typeof value === 'string' && /^-?\d{1,16}$/.test(value))
        ? Number(value)
        : Number.NaN;
  return Number.isSafeInteger(version) ? version : new DecodeError('version');
}

/** A parsed stored meta, in either layout (meta-layout.ts), checked strictly. */
export function decodeMeta(value: unknown): Decoded<SessionMeta> {
  const meta = isObject(value) ? expandMeta(value) : value;
  return isMeta(meta) ? meta : new DecodeError('meta');
}

/** A record from its three parts, data and meta as parsed JSON. */
export function decodeRecord(version: unknown, data: unknown, meta: unknown): Decoded<SessionRecord> {
  const v = decodeVersion(version);
  if (v instanceof DecodeError) return v;
  if (!isObject(data)) return new DecodeError('data');
  const m = decodeMeta(meta);
  return m instanceof DecodeError ? m : { data, version: v, meta: m };
}

/**
 * A row of `version`, `data` and `meta` columns, data and meta read through `parse` (JSON text for a
 * text column; the identity where the driver parses JSON itself).
 */
export function decodeRow(
  row: unknown,
  parse: (stored: unknown) => unknown = asParsed,
): Decoded<SessionRecord> {
  return isObject(row)
    ? decodeRecord(row.version, parse(row.data), parse(row.meta))
    : new DecodeError('record');
}

/** A `{ key, meta }` listing row (meta as parsed JSON). */
export function decodeEntry(key: unknown, meta: unknown): Decoded<SessionEntry> {
  if (typeof key !== 'string') return new DecodeError('key');
  const m = decodeMeta(meta);
  return m instanceof DecodeError ? m : { key, meta: m };
}

/**
 * The entries of listing rows (`key` and `meta` columns, meta read through `parse`), every row
 * that does not decode reported for `store` and left out.
 */
export function decodeEntries(
  store: string,
  rows: Iterable<unknown>,
  parse: (stored: unknown) => unknown = asParsed,
): SessionEntry[] {
  const entries: SessionEntry[] = [];
  for (const row of rows) {
    const entry = reported(
      store,
      isObject(row) ? decodeEntry(row.key, parse(row.meta)) : new DecodeError('record'),
    );
    if (entry !== null) entries.push(entry);
  }
  return entries;
}

/**
 * A whole record as one JSON text: `{"v":…,"m":…,"d":…}` (the Redis store joins its hash fields into
 * this shape); `{"version":…,"data":…,"meta":…}` is read as well.
 */
export function decodeRecordText(text: unknown): Decoded<SessionRecord> {
  const parsed = parseJson(text);
  if (!isObject(parsed)) return new DecodeError('record');
  return 'v' in parsed
    ? decodeRecord(parsed.v, parsed.d, parsed.m)
    : decodeRecord(parsed.version, parsed.data, parsed.meta);
}

/** The successor key named by a stored meta, read leniently: a destroy follows it even from a meta that fails the strict check. */
export function successorKey(meta: unknown): string | null {
  if (!isObject(meta) || !isObject(meta.successor)) return null;
  const key = meta.successor.key;
  return typeof key === 'string' ? key : null;
}

/** The stored text of a record's data. */
export function encodeData(data: RecordData): string {
  return JSON.stringify(data);
}

/** The stored text of a record's meta, in the compact layout where it keeps every number exactly. */
export function encodeMeta(meta: SessionMeta): string {
  return JSON.stringify(compactMeta(meta) ?? meta);
}

/**
 * The stored text of a whole record, for stores that keep it as one value: the shape the Redis store
 * joins its hash into, `{"v":…,"m":…,"d":…}` (stores wrote `{"version","data","meta"}` before; both read).
 */
export function encodeRecordText(record: SessionRecord): string {
  return `{"v":${record.version},"m":${encodeMeta(record.meta)},"d":${encodeData(record.data)}}`;
}
