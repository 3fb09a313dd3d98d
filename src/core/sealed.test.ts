import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionConfigError } from '../errors.js';
import {
  createKeyring,
  decodeSession,
  encodeSession,
  type Keyring,
  openValue,
  type SealedSession,
  sealedLength,
  sealValue,
} from './sealed.js';

const SECRET_A = 'tT3v0c9yQe1WkZq8mX2rB7nL5pD4sF6hJ0aG9uK3iO8=';
const SECRET_B = Buffer.from('6f0c5e1d2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5', 'hex');
const SECRET_C = 'Zr8Qm2Lx7Vn4Kc1Hs9Gd6Ff3Jw0Pt5Yb8Ue2Io7Ay4=';
const SESSION = { cookieName: '__Host-sid', purpose: 'session' };

function ring(secrets: Array<string | Uint8Array>, context = SESSION): Keyring {
  return createKeyring(secrets, context);
}

function bytesOf(value: string): Buffer {
  return Buffer.from(value, 'base64url');
}

function reason(keyring: Keyring, value: string): string {
  const opened = openValue(keyring, value);
  return opened.ok ? 'opened' : opened.reason;
}

function configError(option: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof SessionConfigError);
    assert.equal(error.code, 'ERR_SESSION_CONFIG');
    assert.equal(error.option, option);
    return true;
  };
}

describe('createKeyring', () => {
  it('throws ERR_SESSION_CONFIG for a secret shorter than 32 bytes', () => {
    assert.throws(() => ring(['keyboard cat']), configError('secrets[0]'));
    assert.throws(() => ring([Buffer.alloc(16, 7)]), configError('secrets[0]'));
    assert.throws(() => ring([SECRET_A, 'x'.repeat(31)]), configError('secrets[1]'));
  });

  it('throws for a missing, empty, placeholder, repeated or too long list of secrets', () => {
    assert.throws(() => createKeyring(undefined, SESSION), configError('secrets'));
    assert.throws(() => ring([]), configError('secrets'));
    assert.throws(() => ring(['a'.repeat(64)]), configError('secrets[0]'));
    assert.throws(() => ring([SECRET_A, SECRET_B, SECRET_A]), configError('secrets[2]'));
    const five = [SECRET_A, SECRET_B, SECRET_C, `${SECRET_A}1`, `${SECRET_A}2`];
    assert.throws(() => ring(five), configError('secrets'));
  });

  it('never puts a secret in an error message', () => {
    const short = 'hunter2-hunter2-hunter2';
    assert.throws(
      () => ring([short]),
      (error: unknown) => error instanceof Error && !error.message.includes(short),
    );
  });

  it('derives a kid from the secret, not its position, so prepending a new secret keeps old kids', () => {
    const before = ring([SECRET_A]);
    const after = ring([SECRET_B, SECRET_A]);
    assert.equal(after.keys[1]?.kid, before.current.kid);
    assert.notEqual(after.current.kid, before.current.kid);
    assert.match(before.current.kid, /^[0-9a-f]{8}$/);
  });
});

describe('sealValue / openValue', () => {
  const keyring = ring([SECRET_A]);
  const plaintext = Buffer.from('{"hello":"world"}');

  it('round-trips a plaintext', () => {
    const opened = openValue(keyring, sealValue(keyring, plaintext));
    assert.ok(opened.ok);
    assert.deepEqual(opened.plaintext, plaintext);
    assert.equal(opened.key, keyring.current);
  });

  it('lays the token out as 0x01 ‖ kid(4) ‖ nonce(12) ‖ ciphertext ‖ tag(16) in unpadded base64url', () => {
    const value = sealValue(keyring, plaintext);
    assert.match(value, /^[A-Za-z0-9_-]+$/);
    const bytes = bytesOf(value);
    assert.equal(bytes.length, 1 + 4 + 12 + plaintext.length + 16);
    assert.equal(bytes[0], 0x01);
    assert.equal(bytes.subarray(1, 5).toString('hex'), keyring.current.kid);
    assert.equal(value.length, sealedLength(plaintext.length));
  });

  it('uses a fresh nonce for every seal of the same plaintext', () => {
    const first = bytesOf(sealValue(keyring, plaintext));
    const second = bytesOf(sealValue(keyring, plaintext));
    assert.notDeepEqual(first.subarray(5, 17), second.subarray(5, 17));
    assert.notDeepEqual(first.subarray(17), second.subarray(17));
  });

  it('repeats no nonce across 50,000 seals (nonces come from a pooled CSPRNG read)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) seen.add(bytesOf(sealValue(keyring, plaintext)).toString('hex', 5, 17));
    assert.equal(seen.size, 50_000);
  });

  it('rejects a token with any single bit flipped (version, kid, nonce, ciphertext or tag)', () => {
    const bytes = bytesOf(sealValue(keyring, plaintext));
    const reasons = new Set<string>();
    for (let index = 0; index < bytes.length; index++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(bytes);
        copy.writeUInt8(copy.readUInt8(index) ^ (1 << bit), index);
        const got = reason(keyring, copy.toString('base64url'));
        assert.notEqual(got, 'opened', `byte ${index} bit ${bit}`);
        reasons.add(`${index < 1 ? 'version' : index < 5 ? 'kid' : 'body'}:${got}`);
      }
    }
    assert.deepEqual([...reasons].sort(), ['body:tampered', 'kid:unknown-key', 'version:malformed']);
  });

  it('rejects a token whose tag is truncated to 4, 8 or 12 bytes', () => {
    const bytes = bytesOf(sealValue(keyring, plaintext));
    for (const keep of [4, 8, 12]) {
      const truncated = bytes.subarray(0, bytes.length - 16 + keep).toString('base64url');
      assert.equal(reason(keyring, truncated), 'tampered', `${keep}-byte tag`);
    }
  });

  it('rejects versions 0x00 and 0xFF and garbage before any key lookup', () => {
    const bytes = bytesOf(sealValue(keyring, plaintext));
    for (const version of [0x00, 0xff]) {
      const copy = Buffer.from(bytes);
      copy.writeUInt8(version, 0);
      assert.equal(reason(keyring, copy.toString('base64url')), 'malformed');
    }
    assert.equal(reason(keyring, 'not base64!'), 'malformed');
    assert.equal(reason(keyring, `${sealValue(keyring, plaintext)}=`), 'malformed');
    assert.equal(reason(keyring, 'AQ'), 'malformed');
    assert.equal(reason(keyring, ''), 'malformed');
  });

  it('opens only the one canonical spelling of a sealed value, short or longer than a cookie', () => {
    // Node's base64url decoder reads "+" and "/", skips spaces and truncates U+0141 to "A": each of
    // these spellings decodes to the same bytes, yet none of them may open.
    const wide = (char: string) => String.fromCharCode(0x100 + char.charCodeAt(0));
    for (const size of [17, 18, 19, 4000]) {
      const value = sealValue(keyring, Buffer.alloc(size, 'x'));
      assert.equal(reason(keyring, value), 'opened', `${size} bytes`);
      const at = value.length >> 1;
      const char = value.charAt(at);
      const spellings = [
        `${value.slice(0, at)}${wide(char)}${value.slice(at + 1)}`,
        `${value.slice(0, at)} ${value.slice(at)}`,
        value.replace(/-/g, '+').replace(/_/g, '/'),
        `${value}${'='.repeat((4 - (value.length % 4)) % 4 || 4)}`,
      ];
      if (value.length % 4 !== 0) {
        // The last character carries unused low bits; a decoder ignores them when they are set.
        const last = value.charCodeAt(value.length - 1);
        spellings.push(`${value.slice(0, -1)}${String.fromCharCode(last + 1)}`);
      }
      assert.ok(bytesOf(spellings[0] ?? '').equals(bytesOf(value)), 'the decoder truncates U+0141 to "A"');
      for (const spelling of spellings) {
        if (spelling === value) continue;
        assert.equal(
          reason(keyring, spelling),
          'malformed',
          `${size} bytes: ${JSON.stringify(spelling.slice(at - 2, at + 3))}`,
        );
      }
    }
  });

  it('rejects a token sealed with a key that is not in the ring as unknown-key', () => {
    const value = sealValue(ring([SECRET_B]), plaintext);
    assert.equal(reason(keyring, value), 'unknown-key');
  });

  it('opens tokens of every key in the ring and seals with the first', () => {
    const rotated = ring([SECRET_B, SECRET_A]);
    const opened = openValue(rotated, sealValue(keyring, plaintext));
    assert.ok(opened.ok);
    assert.equal(opened.key.kid, keyring.current.kid);
    assert.equal(bytesOf(sealValue(rotated, plaintext)).subarray(1, 5).toString('hex'), rotated.current.kid);
  });

  it('binds the cookie name: a value sealed for cookie A does not open as cookie B', () => {
    const a = ring([SECRET_A], { cookieName: '__Host-a', purpose: 'session' });
    const b = ring([SECRET_A], { cookieName: '__Host-b', purpose: 'session' });
    assert.equal(reason(b, sealValue(a, plaintext)), 'tampered');
    assert.equal(reason(a, sealValue(a, plaintext)), 'opened');
  });

  it('binds the purpose: a value sealed for one purpose does not open for another', () => {
    const session = ring([SECRET_A]);
    const flash = ring([SECRET_A], { cookieName: '__Host-sid', purpose: 'flash' });
    assert.equal(reason(flash, sealValue(session, plaintext)), 'tampered');
  });

  it('opens a value sealed by an earlier release: the format never changes under existing cookies', () => {
    // Sealed with SECRET_A for __Host-sid/session by the build before the issue-13 changes.
    const fixed =
      'AZg9RNcPkASnScjKWsm2dhfzlORhd2MJqRMTYmowqpYPjIEebMuxpBW-8-6t6SAiiLs4S_oouT02lAqPhzhM-78N1DS2QZCIjdVqtD1pwSbxVnAzs69LYVfDctUDNum_6Zp6VlvktcMv43oSd9FCgfM-Nu5eMs5Dvs1Dec3cL7i1RSzBweO5d5-BcSiFwm4tQzQqHONCreC4mhxlht_spU-oVxYkcnHL3EZ8BZRAr0Q1T3qFE07guZU_5pORx1QeLJGr5BrOjJDw5TqI1Wr_7KBWq0ii';
    const opened = openValue(keyring, fixed);
    assert.ok(opened.ok);
    assert.deepEqual(decodeSession(opened.plaintext), {
      sid: 'abcdefghijklmnopqrstuv',
      createdAt: 1_893_456_000_000,
      lastSeenAt: 1_893_456_100_000,
      absoluteExpiresAt: 1_893_499_200_000,
      version: 7,
      userId: 'user-1',
      authenticatedAt: 1_893_456_050_000,
      persistent: true,
      data: { cart: ['a', 'b'], n: 1, note: 'Grüße ✓' },
    });
  });
});

describe('encodeSession / decodeSession', () => {
  const session: SealedSession = {
    sid: 'abcdefghijklmnopqrstuv',
    createdAt: 1_893_456_000_000,
    lastSeenAt: 1_893_456_100_000,
    absoluteExpiresAt: 1_893_499_200_000,
    version: 7,
    userId: 'user-1',
    authenticatedAt: 1_893_456_050_000,
    data: { cart: ['a', 'b'], n: 1 },
  };

  it('round-trips every field, and omits the optional ones when absent', () => {
    assert.deepEqual(decodeSession(encodeSession(session)), session);
    const { userId: _u, authenticatedAt: _t, ...anonymous } = session;
    assert.deepEqual(decodeSession(encodeSession(anonymous)), anonymous);
    assert.doesNotMatch(encodeSession(anonymous).toString(), /"u"|"t"/);
  });

  it('returns null for anything that is not a sealed session', () => {
    assert.equal(decodeSession(Buffer.from('not json')), null);
    assert.equal(decodeSession(Buffer.from('[1,2]')), null);
    assert.equal(decodeSession(Buffer.from('{"i":"x","c":1,"s":1,"a":1,"n":1}')), null);
    assert.equal(decodeSession(Buffer.from('{"i":"x","c":"1","s":1,"a":1,"n":1,"d":{}}')), null);
    assert.equal(decodeSession(Buffer.from('{"i":"x","c":1,"s":1,"a":1,"n":1,"u":5,"d":{}}')), null);
  });
});
