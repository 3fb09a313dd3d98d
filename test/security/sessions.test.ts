/**
 * SEC-2, SEC-21, SEC-39: what a session's identifiers reveal, per-user revocation, CSRF comparison —
 * through the store-backed manager.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { tokenKey } from '../../src/core/crypto.js';
import { createSessionManager, type RequestInfo, type StoreSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createFakeClock, type FakeClock } from '../../src/testing/index.js';
import { type AppData, SESSION_COOKIE } from './harness.js';

let clock: FakeClock;
let manager: StoreSessionManager<AppData>;
beforeEach(() => {
  clock = createFakeClock();
  manager = createSessionManager<AppData>({
    store: createMemoryStore({ clock, sweepIntervalSeconds: 0 }),
    clock,
  });
});

const header = (token: string) => `${SESSION_COOKIE}=${token}`;

function tokenIn(setCookies: string[]): string {
  const line = setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  const token = line?.slice(SESSION_COOKIE.length + 1).split(';', 1)[0];
  assert.ok(token, `no session cookie in ${JSON.stringify(setCookies)}`);
  return token;
}

/** Logs `userId` in on a new session and returns its token. */
async function loginAs(userId: string, request?: RequestInfo): Promise<string> {
  const session = await manager.load(undefined, request);
  await session.login(userId);
  return tokenIn(await manager.commit(session));
}

function hamming(a: Buffer, b: Buffer): number {
  let distance = 0;
  for (let i = 0; i < a.length; i++) {
    let x = (a[i] ?? 0) ^ (b[i] ?? 0);
    while (x) {
      distance += x & 1;
      x >>= 1;
    }
  }
  return distance;
}

describe('session identifiers', () => {
  it('SEC-2: tokens issued to one user in the same millisecond hold no user id, time or counter and are unrelated to each other', async () => {
    const now = clock.now();
    const tokens: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const token = await loginAs('user-42');
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      tokens.push(Buffer.from(token, 'base64url'));
    }
    assert.equal(clock.now(), now);
    const be = (value: number, bytes: number) => {
      const out = Buffer.alloc(8);
      out.writeBigUInt64BE(BigInt(value));
      return out.subarray(8 - bytes);
    };
    const needles = [
      Buffer.from('user-42'),
      Buffer.from(String(now)),
      Buffer.from(String(Math.floor(now / 1000))),
      be(now, 8),
      be(now, 6),
      be(Math.floor(now / 1000), 4),
    ];
    let total = 0;
    tokens.forEach((bytes, i) => {
      assert.equal(bytes.length, 32);
      for (const needle of needles)
        assert.equal(bytes.includes(needle), false, `token ${i} holds ${needle.toString('hex')}`);
      const previous = tokens[i - 1];
      if (previous === undefined) return;
      const distance = hamming(previous, bytes);
      // One pair: mean 128, sd 8; 6 sd is a broken generator, not chance.
      assert.ok(Math.abs(distance - 128) < 48, `tokens ${i - 1} and ${i} differ in ${distance} bits`);
      total += distance;
    });
    // The mean of 199 pairs has sd 8 / sqrt(199) ≈ 0.57.
    assert.ok(Math.abs(total / 199 - 128) < 4, `mean Hamming distance ${total / 199}`);
  });
});

describe('per-user sessions (SEC-21)', () => {
  it('SEC-21: revokeUserSessions(user) without except ends every session of that user and of no other; listings show public ids, never tokens', async () => {
    const tokens = [];
    for (const agent of ['phone', 'laptop', 'tablet']) {
      tokens.push(await loginAs('u', { protocol: 'https', userAgent: agent }));
      clock.advanceSeconds(1);
    }
    const other = await loginAs('v');
    const listed = await manager.listUserSessions('u');
    assert.deepEqual(listed.map((s) => s.id).sort(), tokens.map((t) => tokenKey(t)).sort());
    for (const info of listed) {
      assert.equal(typeof info.createdAt, 'number');
      assert.equal(typeof info.lastSeenAt, 'number');
      assert.ok(['phone', 'laptop', 'tablet'].includes(String(info.userAgent)));
    }
    const text = JSON.stringify(listed);
    for (const token of tokens) assert.equal(text.includes(token), false);
    const [kept = ''] = tokens;
    assert.equal(await manager.revokeUserSessions('u', { except: tokenKey(kept) }), 2);
    assert.deepEqual(await Promise.all(tokens.map(async (t) => (await manager.load(header(t))).isNew)), [
      false,
      true,
      true,
    ]);
    assert.equal(await manager.revokeUserSessions('u'), 1);
    assert.equal((await manager.load(header(kept))).isNew, true);
    assert.deepEqual(await manager.listUserSessions('u'), []);
    assert.equal((await manager.load(header(other))).userId, 'v');
  });
});

describe('CSRF tokens (SEC-39)', () => {
  it('SEC-39: verifyCsrfToken accepts only the session’s own token and answers false, without throwing, for other lengths, encodings, sessions or none', async () => {
    const session = await manager.load(undefined);
    const token = session.csrfToken();
    assert.equal(session.csrfToken(), token);
    const other = (await manager.load(undefined)).csrfToken();
    assert.equal(session.verifyCsrfToken(token), true);
    for (const wrong of [
      `${token}x`,
      token.slice(1),
      '',
      other,
      'é'.repeat(token.length),
      `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
      null,
      undefined,
    ]) {
      assert.equal(session.verifyCsrfToken(wrong), false, String(wrong));
    }
    const stored = tokenIn(await manager.commit(session));
    const again = await manager.load(header(stored));
    assert.equal(again.verifyCsrfToken(token), true);
    await again.regenerate();
    assert.equal(again.verifyCsrfToken(token), false, 'the CSRF token survived regenerate()');
  });

  it('SEC-39: library code compares secrets only through the constant-time helper, never with Buffer.equals', () => {
    const files = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !f.includes('.test'),
    );
    for (const file of files) {
      const source = readFileSync(join('src', file), 'utf8');
      assert.doesNotMatch(source, /\.equals\(/, `${file} uses Buffer.equals`);
      if (file !== join('core', 'crypto.ts')) assert.doesNotMatch(source, /timingSafeEqual/, file);
    }
    assert.match(readFileSync('src/core/session.ts', 'utf8'), /return safeEqual\(token, expected\)/);
  });
});
