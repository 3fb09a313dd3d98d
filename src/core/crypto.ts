/**
 * Every cryptographic operation in sessionkit. Nothing else imports `node:crypto`.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hash,
  hkdfSync,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from 'node:crypto';

/** Bytes of entropy in a session token (SEC-1: 256 bits). */
export const TOKEN_BYTES = 32;

// 32 bytes in unpadded base64url are 43 characters; the last one carries 4 data bits and 2 zero
// bits, so only 16 of the 64 letters can end a canonical encoding. Rejecting the others makes every
// accepted token the one and only encoding of its bytes.
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** A fresh session token: 32 CSPRNG bytes, base64url without padding (43 characters). */
export function randomToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Random bytes from the CSPRNG, base64url-encoded. */
export function randomString(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** A CSPRNG number in [0, 1), for jitter: the library takes all randomness from the CSPRNG (SEC-1). */
export function randomFraction(): number {
  return randomInt(0, 65_536) / 65_536;
}

/** True when `value` is exactly the shape `randomToken()` produces (checked before any store I/O). */
export function isWellFormedToken(value: string): boolean {
  return value.length === 43 && TOKEN_PATTERN.test(value);
}

/** True when `value` has the shape of a store key / public id (SHA-256, base64url: 43 characters). */
export function isWellFormedKey(value: string): boolean {
  return isWellFormedToken(value);
}

/** The store key (and public id) of a token: SHA-256, base64url. A store dump yields no tokens. */
export function tokenKey(token: string): string {
  // One-shot hash: no Hash object per request (measurably cheaper on the read path).
  return hash('sha256', token, 'base64url');
}

/** SHA-1 hex digest, for naming Redis scripts (EVALSHA); not used for anything secret. */
export function sha1Hex(text: string): string {
  return hash('sha1', text, 'hex');
}

/** Constant-time comparison of two strings (false on different lengths, without early exit on content). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}

/** HMAC-SHA-256 of `message` under `key`, base64url. */
export function hmac(key: Buffer | string, message: string): string {
  return createHmac('sha256', key).update(message).digest('base64url');
}

/**
 * HMAC-SHA-256 of `message` under `key`, standard base64 without `=` padding: the signature format of
 * `cookie-signature`, which express-session signs its cookies with.
 */
export function hmacBase64(key: string, message: string): string {
  return createHmac('sha256', key).update(message).digest('base64').replace(/=+$/, '');
}

/**
 * The claim token of a legacy session being migrated: a token-shaped SHA-256 of its id, so every process
 * migrating the same legacy session finds the same claim record. Never sent as a cookie.
 */
export function legacyClaimToken(legacyId: string): string {
  return hash('sha256', `sessionkit/v1/migrate\0${legacyId}`, 'base64url');
}

/** HKDF-SHA-256 (RFC 5869) of 32 bytes. */
export function deriveKey(secret: Buffer, salt: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, info, 32));
}

/** Bytes of the AES-GCM nonce (96 bits, NIST SP 800-38D §8.2.2) and tag (128 bits). */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
// One options object for every cipher: the hot path allocates none (Node only reads it).
const GCM_OPTIONS = Object.freeze({ authTagLength: TAG_BYTES });

/** AES-256-GCM encryption: returns `nonce ‖ ciphertext ‖ tag`. */
export function aeadSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, GCM_OPTIONS);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/**
 * AES-256-GCM decryption of `nonce ‖ ciphertext ‖ tag`; `null` when anything fails. The tag length
 * is enforced (Node accepts truncated tags otherwise, DEP0182).
 */
export function aeadOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer | null {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return null;
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, GCM_OPTIONS);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const plaintext = decipher.update(body);
    // GCM's final() yields no bytes; it throws when the tag does not verify, so nothing unverified escapes.
    decipher.final();
    return plaintext;
  } catch {
    return null;
  }
}

const SUCCESSOR_AAD = Buffer.from('sessionkit/v1/successor');

function successorKey(oldToken: string): Buffer {
  return deriveKey(Buffer.from(oldToken), 'sessionkit', 'sessionkit/v1/successor');
}

/**
 * Seals the successor token of a rotation under a key derived from the old token, so that only a
 * holder of the old token (during the grace window) can learn the new one; a store dump cannot.
 */
export function sealSuccessor(oldToken: string, newToken: string): string {
  return aeadSeal(successorKey(oldToken), Buffer.from(newToken), SUCCESSOR_AAD).toString('base64url');
}

/** Opens what `sealSuccessor` sealed; `null` if it does not open with this token. */
export function openSuccessor(oldToken: string, sealed: string): string | null {
  const opened = aeadOpen(successorKey(oldToken), Buffer.from(sealed, 'base64url'), SUCCESSOR_AAD);
  return opened ? opened.toString() : null;
}

// CSPRNG output for GCM nonces, read 256 nonces at a time: one `randomBytes(12)` per seal costs about
// as much as the cipher set-up. Each refill allocates a new pool, so no nonce is ever handed out twice.
const NONCE_POOL_BYTES = NONCE_BYTES * 256;
let noncePool = Buffer.alloc(0);
let nonceOffset = 0;

function nextNonce(): Buffer {
  if (nonceOffset + NONCE_BYTES > noncePool.length) {
    noncePool = randomBytes(NONCE_POOL_BYTES);
    nonceOffset = 0;
  }
  const nonce = noncePool.subarray(nonceOffset, nonceOffset + NONCE_BYTES);
  nonceOffset += NONCE_BYTES;
  return nonce;
}

/**
 * AES-256-GCM encryption like `aeadSeal`, written into one buffer after `prefix`:
 * `prefix ‖ nonce ‖ ciphertext ‖ tag` (the hot path of cookie-only sessions: no extra copies).
 */
export function aeadSealPrefixed(key: Buffer, prefix: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = nextNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce, GCM_OPTIONS);
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const rest = cipher.final();
  const start = prefix.length + NONCE_BYTES;
  const out = Buffer.allocUnsafe(start + body.length + rest.length + TAG_BYTES);
  prefix.copy(out, 0);
  nonce.copy(out, prefix.length);
  body.copy(out, start);
  rest.copy(out, start + body.length);
  cipher.getAuthTag().copy(out, start + body.length + rest.length);
  return out;
}
