import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  isWellFormedToken,
  openSuccessor,
  randomToken,
  safeEqual,
  sealSuccessor,
  tokenKey,
} from './crypto.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('session tokens', () => {
  it('SEC-1: 10^6 tokens are 43 base64url characters, unique, uniform per position and bit-balanced', () => {
    const count = 1_000_000;
    const seen = new Set<string>();
    // Positions 0..41 carry 6 random bits each: 64 equally likely letters.
    const freq = Array.from({ length: 42 }, () => new Uint32Array(64));
    let ones = 0;
    for (let i = 0; i < count; i++) {
      const token = randomToken();
      assert.equal(token.length, 43);
      seen.add(token);
      for (let p = 0; p < 42; p++) {
        const v = ALPHABET.indexOf(token[p] ?? '');
        assert.ok(v >= 0);
        const bucket = freq[p];
        if (bucket) bucket[v] = (bucket[v] ?? 0) + 1;
        if (p === 0)
          ones +=
            (v & 1) + ((v >> 1) & 1) + ((v >> 2) & 1) + ((v >> 3) & 1) + ((v >> 4) & 1) + ((v >> 5) & 1);
      }
      assert.ok(isWellFormedToken(token));
    }
    assert.equal(seen.size, count);
    // Chi-square with 63 degrees of freedom: p = 0.001 at 103.4. 42 tests at that level fail by chance
    // with probability ~4%, so the bound is corrected for the number of positions (Bonferroni, p < 0.001/42).
    const expected = count / 64;
    for (const bucket of freq) {
      let chi = 0;
      for (const observed of bucket) chi += (observed - expected) ** 2 / expected;
      assert.ok(chi < 130, `chi-square ${chi.toFixed(1)} too high`);
    }
    // 6·10^6 bits of position 0: mean 3·10^6, sd ≈ 1225; 6 sd is a broken generator, not chance.
    assert.ok(Math.abs(ones - 3 * count) < 6 * 1225, `bit balance ${ones}`);
  });

  it('SEC-2: tokens made in the same millisecond are unrelated (Hamming distance about 128 bits)', () => {
    let total = 0;
    const pairs = 1000;
    for (let i = 0; i < pairs; i++) {
      const a = Buffer.from(randomToken(), 'base64url');
      const b = Buffer.from(randomToken(), 'base64url');
      let distance = 0;
      for (let j = 0; j < 32; j++) {
        let x = (a[j] ?? 0) ^ (b[j] ?? 0);
        while (x) {
          distance += x & 1;
          x >>= 1;
        }
      }
      assert.ok(distance > 128 - 48 && distance < 128 + 48);
      total += distance;
    }
    assert.ok(Math.abs(total / pairs - 128) < 1.5);
  });

  it('SEC-1: the library never uses Math.random or UUIDs for tokens', () => {
    const files = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !f.includes('.test'),
    );
    for (const file of files) {
      const lines = readFileSync(join('src', file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        assert.doesNotMatch(line, /randomUUID|uuid/i, `${file}:${i + 1}`);
        // Math.random is only allowed for retry jitter, which must say so next to it.
        if (line.includes('Math.random')) {
          const context = lines.slice(Math.max(0, i - 3), i + 1).join('\n');
          assert.match(context, /backoff|jitter/i, `${file}:${i + 1} uses Math.random outside a backoff`);
        }
      });
    }
    assert.doesNotMatch(readFileSync('src/core/crypto.ts', 'utf8'), /Math\.random/);
  });

  it('accepts only the canonical encoding of 32 bytes', () => {
    const token = randomToken();
    assert.ok(isWellFormedToken(token));
    assert.equal(isWellFormedToken(`${token.slice(0, 42)}B`), false);
    assert.equal(isWellFormedToken(token.slice(1)), false);
    assert.equal(isWellFormedToken(`${token.slice(0, 42)}=`), false);
    assert.equal(isWellFormedToken(`${token.slice(0, 41)}+A`), false);
  });

  it('keys a record by the SHA-256 of the token', () => {
    const token = randomToken();
    assert.equal(tokenKey(token), tokenKey(token));
    assert.equal(tokenKey(token).length, 43);
    assert.notEqual(tokenKey(token), token);
  });

  it('seals a rotation successor so that only the old token opens it', () => {
    const old = randomToken();
    const next = randomToken();
    const sealed = sealSuccessor(old, next);
    assert.equal(sealed.includes(next), false);
    assert.equal(openSuccessor(old, sealed), next);
    assert.equal(openSuccessor(randomToken(), sealed), null);
    assert.equal(openSuccessor(old, `${sealed.slice(0, -2)}AA`), null);
  });

  it('compares strings in constant time, false on different lengths', () => {
    assert.equal(safeEqual('abc', 'abc'), true);
    assert.equal(safeEqual('abc', 'abd'), false);
    assert.equal(safeEqual('abc', 'abcd'), false);
  });
});
