/**
 * Building blocks for store tests: random keys and records shaped like the ones the core writes.
 */
import type { Clock } from '../core/clock.js';
import { randomString, randomToken, tokenKey } from '../core/crypto.js';
import type { RecordData, SessionMeta, SessionRecord } from '../stores/types.js';

const MINUTE_MS = 60_000;

/** A fresh store key shaped like the core's: the SHA-256 of a random token, base64url (43 characters). */
export function randomKey(): string {
  return tokenKey(randomToken());
}

/** A user id unique to this call, with characters (`:`, a space, non-ASCII) that naive key schemes mishandle. */
export function randomUserId(label = 'user'): string {
  return `${label}:é ${randomString(9)}`;
}

/** The audience `sampleMeta` records (the default cookie name, as a manager with default options writes). */
export const SAMPLE_AUDIENCE = '__Host-sid';

/** Session meta as the core writes it for a session created now: 30 min idle, 12 h absolute. */
export function sampleMeta(clock: Clock, overrides: Partial<SessionMeta> = {}): SessionMeta {
  const now = clock.now();
  return {
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + 30 * MINUTE_MS,
    absoluteExpiresAt: now + 12 * 60 * MINUTE_MS,
    expiresAt: now + 30 * MINUTE_MS,
    audience: SAMPLE_AUDIENCE,
    ...overrides,
  };
}

/** A record with `data`, version 1 and `sampleMeta(clock, meta)`. */
export function sampleRecord(
  clock: Clock,
  data: RecordData = {},
  meta: Partial<SessionMeta> = {},
  version = 1,
): SessionRecord {
  return { data, version, meta: sampleMeta(clock, meta) };
}
