/**
 * The sealed cookie format of cookie-only sessions (SECURITY.md §2, SEC-29 to SEC-39): a keyring of
 * HKDF-derived AES-256-GCM keys, the token layout `0x01 ‖ kid(4) ‖ nonce(12) ‖ ciphertext ‖ tag(16)`
 * in unpadded base64url, and the JSON payload inside the ciphertext. The split of a long value across
 * several cookies is in cookie-chunks.ts.
 */
import { SessionConfigError } from '../errors.js';
import { aeadOpen, aeadSealPrefixed, deriveKey, NONCE_BYTES, TAG_BYTES } from './crypto.js';
import type { RecordData } from './store-contract.js';

/** Version byte of the format; it fixes the algorithm, so there is no algorithm field (SEC-30). */
export const SEALED_VERSION = 0x01;
const KID_BYTES = 4;
const HEADER_BYTES = 1 + KID_BYTES;
/** Bytes a sealed value adds to its plaintext: version, kid, nonce and tag. */
export const SEAL_OVERHEAD_BYTES = HEADER_BYTES + NONCE_BYTES + TAG_BYTES;
/** Fewest bytes a secret may have (SEC-36). */
export const MIN_SECRET_BYTES = 32;
/** Most keys a keyring holds: the current one and a few previous ones (SECURITY.md §2: 2–3 live keys). */
export const MAX_LIVE_KEYS = 4;
// A secret with fewer distinct byte values than this is a placeholder ("aaaa…", "0000…"), not a key.
const MIN_DISTINCT_BYTES = 8;
// Fixed per-library salt (RFC 5869 §3.1 allows a constant); the secrets carry the entropy.
const KDF_SALT = 'sessionkit/v1';
const KID_INFO = 'sessionkit/v1/cookie-session/kid';

/** One key of a keyring, with everything the hot path needs precomputed. */
export interface SealingKey {
  /** The key id as it appears in events and `keyUsage()`: 8 hex digits. */
  readonly kid: string;
  /** The key id as the 32-bit number stored in the token. */
  readonly kidNumber: number;
  readonly key: Buffer;
  /** `version ‖ kid`, the first five bytes of every token sealed with this key. */
  readonly header: Buffer;
  /** Associated data: `version ‖ kid ‖ cookie name ‖ 0x00 ‖ purpose` (SEC-31). */
  readonly aad: Buffer;
}

/** The keys of a cookie-only manager: the first seals, all open. */
export interface Keyring {
  readonly current: SealingKey;
  readonly keys: readonly SealingKey[];
  /** The key with this kid, if it is in the ring. */
  find(kidNumber: number): SealingKey | undefined;
}

/** What a keyring is bound to: tokens sealed for one context never open in another. */
export interface SealContext {
  cookieName: string;
  /** What the sealed value is for, e.g. `"session"`; part of the key derivation and of the AAD. */
  purpose: string;
}

function secretBytes(secret: unknown, index: number): Buffer {
  const option = `secrets[${index}]`;
  let bytes: Buffer;
  if (typeof secret === 'string') bytes = Buffer.from(secret, 'utf8');
  else if (secret instanceof Uint8Array) bytes = Buffer.from(secret);
  else throw new SessionConfigError(option, 'must be a string or a Buffer');
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new SessionConfigError(
      option,
      `is ${bytes.length} bytes; at least ${MIN_SECRET_BYTES} random bytes are required`,
    );
  }
  if (new Set(bytes).size < MIN_DISTINCT_BYTES) {
    throw new SessionConfigError(option, 'looks like a placeholder, not a random secret');
  }
  return bytes;
}

/**
 * Derives the keys of `secrets` (current first) once, at construction. The kid comes from the
 * secret itself, not its position, so adding a new current secret never renumbers the old ones.
 */
export function createKeyring(secrets: unknown, context: SealContext): Keyring {
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new SessionConfigError('secrets', 'must be a non-empty array: [current, ...previous]');
  }
  if (secrets.length > MAX_LIVE_KEYS) {
    throw new SessionConfigError(
      'secrets',
      `holds ${secrets.length} keys; keep at most ${MAX_LIVE_KEYS} (drop a key once the absolute timeout has passed since its replacement)`,
    );
  }
  const byNumber = new Map<number, SealingKey>();
  const keys: SealingKey[] = [];
  const info = `sessionkit/v1/cookie-session/${context.purpose}`;
  const suffix = Buffer.from(`${context.cookieName}\u0000${context.purpose}`, 'utf8');
  for (const [index, secret] of secrets.entries()) {
    const bytes = secretBytes(secret, index);
    const kidNumber = deriveKey(bytes, KDF_SALT, KID_INFO).readUInt32BE(0);
    if (byNumber.has(kidNumber)) {
      throw new SessionConfigError(`secrets[${index}]`, 'repeats an earlier secret');
    }
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt8(SEALED_VERSION, 0);
    header.writeUInt32BE(kidNumber, 1);
    const key: SealingKey = {
      kid: header.subarray(1).toString('hex'),
      kidNumber,
      key: deriveKey(bytes, KDF_SALT, info),
      header,
      aad: Buffer.concat([header, suffix]),
    };
    byNumber.set(kidNumber, key);
    keys.push(key);
  }
  const current = keys[0];
  if (current === undefined) throw new SessionConfigError('secrets', 'must not be empty');
  return { current, keys, find: (kidNumber) => byNumber.get(kidNumber) };
}

/** Length in characters of the sealed value of `plaintextBytes` bytes (unpadded base64url). */
export function sealedLength(plaintextBytes: number): number {
  return Math.ceil(((plaintextBytes + SEAL_OVERHEAD_BYTES) * 4) / 3);
}

/** Seals `plaintext` with the keyring's current key. */
export function sealValue(keyring: Keyring, plaintext: Buffer): string {
  const { key, header, aad } = keyring.current;
  return aeadSealPrefixed(key, header, plaintext, aad).toString('base64url');
}

/** Why a value did not open. */
export type OpenFailure = 'malformed' | 'unknown-key' | 'tampered';

/** The result of `openValue`. */
export type Opened = { ok: true; plaintext: Buffer; key: SealingKey } | { ok: false; reason: OpenFailure };

// Decoding scratch for values up to one cookie long (4096 characters of base64url, 3072 bytes): the
// hot path allocates no Buffer for the token itself. Every use is synchronous, and the cipher copies
// what it reads, so nothing outlives the call that filled it.
const SCRATCH_BYTES = 3072;
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

/**
 * The bytes of `value` when it is the one canonical unpadded base64url encoding of them, else null.
 * Node's decoder skips or truncates what it does not expect (U+0141 decodes as "A"), so the bytes are
 * encoded again and compared: no other spelling (another alphabet, padding, non-zero unused bits of
 * the last character, a stray character) ever opens as the same sealed value.
 */
function canonicalBytes(value: string): Buffer | null {
  let bytes: Buffer;
  if (value.length <= (SCRATCH_BYTES / 3) * 4) {
    bytes = scratch.subarray(0, scratch.write(value, 0, 'base64url'));
  } else {
    bytes = Buffer.from(value, 'base64url');
  }
  return bytes.toString('base64url') === value ? bytes : null;
}

/**
 * Opens a sealed value. The version and the kid are checked before any decryption (SEC-30); the
 * 16-byte tag is enforced by `aeadOpen`, so a truncated tag never verifies (SEC-29).
 */
export function openValue(keyring: Keyring, value: string): Opened {
  const bytes = canonicalBytes(value);
  if (bytes === null || bytes.length <= SEAL_OVERHEAD_BYTES || bytes[0] !== SEALED_VERSION) {
    return { ok: false, reason: 'malformed' };
  }
  const key = keyring.find(bytes.readUInt32BE(1));
  if (key === undefined) return { ok: false, reason: 'unknown-key' };
  const plaintext = aeadOpen(key.key, bytes.subarray(HEADER_BYTES), key.aad);
  return plaintext === null ? { ok: false, reason: 'tampered' } : { ok: true, plaintext, key };
}

/** What a sealed session holds. Timestamps are epoch ms, checked by the manager on every open. */
export interface SealedSession {
  /** Random session id; the public `id` is its hash. */
  sid: string;
  createdAt: number;
  lastSeenAt: number;
  absoluteExpiresAt: number;
  /** Incremented on every seal. */
  version: number;
  userId?: string;
  authenticatedAt?: number;
  /** Remember me (`SessionMeta.persistent`). */
  persistent?: boolean;
  data: RecordData;
}

/** The JSON plaintext of a sealed session (short keys: every byte counts against the cookie budget). */
export function encodeSession(session: SealedSession): Buffer {
  return Buffer.from(
    JSON.stringify({
      i: session.sid,
      c: session.createdAt,
      s: session.lastSeenAt,
      a: session.absoluteExpiresAt,
      n: session.version,
      u: session.userId,
      t: session.authenticatedAt,
      p: session.persistent,
      d: session.data,
    }),
    'utf8',
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Parses what `encodeSession` wrote; `null` for anything else. Only a holder of a key can produce
 * a plaintext, so this guards against our own bugs and old formats, not against attackers.
 */
export function decodeSession(plaintext: Buffer): SealedSession | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext.toString());
  } catch {
    return null;
  }
  if (!isRecord(parsed)) return null;
  const { i: sid, c: createdAt, s: lastSeenAt, a: absoluteExpiresAt, n: version, u, t, p, d } = parsed;
  if (typeof sid !== 'string' || sid.length === 0 || !isRecord(d)) return null;
  if (!isTime(createdAt) || !isTime(lastSeenAt) || !isTime(absoluteExpiresAt) || !isTime(version)) {
    return null;
  }
  const session: SealedSession = { sid, createdAt, lastSeenAt, absoluteExpiresAt, version, data: d };
  if (u !== undefined) {
    if (typeof u !== 'string') return null;
    session.userId = u;
  }
  if (t !== undefined) {
    if (!isTime(t)) return null;
    session.authenticatedAt = t;
  }
  if (p !== undefined) {
    if (typeof p !== 'boolean') return null;
    session.persistent = p;
  }
  return session;
}
