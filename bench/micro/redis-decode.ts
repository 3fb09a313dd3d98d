/**
 * Micro-benchmark of the Redis store's read decoding: a HGETALL reply (flat field/value list) into a
 * record, two ways. "join" (what the store does) concatenates the fields into one JSON text and parses
 * it once; "per-field" parses the meta and each data field separately. Usage: tsx bench/micro/redis-decode.ts
 */
import { decodeHash } from '../../src/stores/internal/redis-codec.js';
import type { RecordData, SessionMeta, SessionRecord } from '../../src/stores/types.js';

function perField(reply: string[]): SessionRecord | null {
  if (reply.length === 0) return null;
  const data: RecordData = {};
  let meta: unknown = null;
  let version = Number.NaN;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const field = reply[i] ?? '';
    const value = reply[i + 1] ?? '';
    if (field.startsWith('d:')) {
      const name: unknown = JSON.parse(field.slice(2));
      if (typeof name === 'string') {
        Object.defineProperty(data, name, {
          value: JSON.parse(value),
          writable: true,
          enumerable: true,
          configurable: true,
        });
      }
    } else if (field === 'm') meta = JSON.parse(value);
    else if (field === 'v') version = Number(value);
  }
  return { data, version, meta: meta as SessionMeta };
}

function replyOf(fields: number): string[] {
  const now = Date.now();
  const meta = {
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + 1_800_000,
    absoluteExpiresAt: now + 86_400_000,
    expiresAt: now + 1_800_000,
    audience: '__Host-sid',
    userId: 'user-1234',
    authenticatedAt: now,
  };
  const reply = ['v', '7', 'm', JSON.stringify(meta), 'u', 'user-1234'];
  for (let i = 0; i < fields; i++)
    reply.push(`d:"key${i}"`, JSON.stringify({ id: i, name: `item ${i}`, n: [1, 2, 3] }));
  return reply;
}

function measure(name: string, decode: (reply: string[]) => unknown, reply: string[]): number {
  for (let i = 0; i < 20_000; i++) decode(reply);
  let runs = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < 1_000_000_000n) {
    for (let i = 0; i < 1000; i++) decode(reply);
    runs += 1000;
    elapsed = process.hrtime.bigint() - start;
  }
  const perSecond = Math.round((runs * 1e9) / Number(elapsed));
  console.log(
    `${name.padEnd(10)} ${String(reply.length / 2).padStart(3)} fields  ${perSecond.toLocaleString('en')} ops/s`,
  );
  return perSecond;
}

for (const fields of [3, 20]) {
  const reply = replyOf(fields);
  measure('join', decodeHash, reply);
  measure('per-field', perField, reply);
}
