/**
 * SEC-33 and SEC-35: revocation and confidentiality of cookie-only (sealed) sessions.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { SessionHandler } from '../../src/adapters/node.js';
import { createCookieSessionManager } from '../../src/cookie-session.js';
import { createFakeClock } from '../../src/testing/index.js';
import { type AppData, appHandler, json, SESSION_COOKIE, serve, urlOf } from './harness.js';

const SECRET = 'sec-tests-cookie-only-7Vn4Kc1Hs9Gd6Ff3Jw0Pt5Yb8Ue2I';

/** The sentence docs/security.md must hold (SEC-33 asks the docs to say it plainly). */
const NO_HOOK_SENTENCE =
  'Without a `notBefore` hook, a logged-out sealed cookie stays valid until it expires.';

describe('revocation of cookie-only sessions (SEC-33)', () => {
  it('SEC-33: without a notBefore hook, a cookie copied before logout still works after it, and docs/security.md says so', async () => {
    const manager = createCookieSessionManager<AppData>({ secrets: [SECRET], trustProxy: true });
    const app = await serve(manager, appHandler);
    try {
      const user = app.browser();
      await user.request('/login?user=alice');
      const copied = user.cookie();
      assert.equal((await user.request('/logout')).status, 302);
      assert.equal(user.cookie(), undefined, 'logout cleared the cookie');
      const attacker = app.browser();
      attacker.setCookie(copied);
      assert.equal(json(await attacker.request('/read')).userId, 'alice');
    } finally {
      await app.close();
    }
    assert.ok(readFileSync('docs/security.md', 'utf8').includes(NO_HOOK_SENTENCE));
  });

  it('SEC-33: with a notBefore hook that the app sets at logout, the copied cookie is refused and a new login works', async () => {
    const clock = createFakeClock();
    const loggedOutAt = new Map<string, number>();
    const manager = createCookieSessionManager<AppData>({
      secrets: [SECRET],
      clock,
      trustProxy: true,
      notBefore: (userId) => loggedOutAt.get(userId),
    });
    const handler: SessionHandler<AppData> = async (req, res, session) => {
      if (urlOf(req).pathname === '/logout' && session.userId !== undefined) {
        loggedOutAt.set(session.userId, clock.now());
      }
      return appHandler(req, res, session);
    };
    const app = await serve(manager, handler);
    try {
      const user = app.browser();
      await user.request('/login?user=alice');
      const copied = user.cookie();
      clock.advanceSeconds(5);
      await user.request('/logout');
      const attacker = app.browser();
      attacker.setCookie(copied);
      const replay = await attacker.request('/read');
      assert.equal(json(replay).isNew, true);
      assert.ok(replay.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=; Max-Age=0`)));
      await user.request('/login?user=alice');
      assert.equal(json(await user.request('/read')).userId, 'alice');
    } finally {
      await app.close();
    }
  });
});

/** Shannon entropy of `bytes` in bits per byte. */
function entropy(bytes: Buffer): number {
  const counts = new Array<number>(256).fill(0);
  for (const byte of bytes) counts[byte] = (counts[byte] ?? 0) + 1;
  let bits = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / bytes.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

describe('confidentiality of cookie-only sessions (SEC-35)', () => {
  it('SEC-35: the default sealed cookie shows nothing of the session: no JSON, no value, about 8 bits of entropy per byte', async () => {
    const manager = createCookieSessionManager<AppData>({ secrets: [SECRET] });
    const session = await manager.load(undefined);
    const data = {
      note: 'confidential: card ending 4242',
      profile: { email: 'alice@example.com', role: 'admin' },
      blob: 'The quick brown fox jumps over the lazy dog. '.repeat(55),
    };
    for (const [key, value] of Object.entries(data)) session.set(key, value);
    const [line = ''] = await manager.commit(session);
    const value = line.slice(SESSION_COOKIE.length + 1, line.indexOf(';'));
    const bytes = Buffer.from(value, 'base64url');
    assert.ok(bytes.length > 2500, `${bytes.length} bytes`);
    // JSON fragments long enough that random ciphertext cannot hold them by chance: a 2-byte needle
    // such as `{"` turns up in ~4 % of 2,500 random bytes.
    const json = ['"note":"', '"profile":{"email"', '"role":"admin"'];
    for (const needle of ['confidential', '4242', 'alice@example.com', 'admin', 'quick brown', ...json]) {
      assert.equal(bytes.includes(Buffer.from(needle)), false, `the sealed bytes show ${needle}`);
      assert.equal(value.includes(needle), false, `the cookie text shows ${needle}`);
    }
    const plaintextEntropy = entropy(Buffer.from(JSON.stringify(data)));
    assert.ok(plaintextEntropy < 5, `plaintext ${plaintextEntropy.toFixed(2)} bits/byte`);
    const sealedEntropy = entropy(bytes);
    // 2,500+ uniform bytes estimate at about 7.93 bits/byte; readable data is far below.
    assert.ok(sealedEntropy > 7.8, `sealed ${sealedEntropy.toFixed(2)} bits/byte`);
    assert.deepEqual((await manager.load(`${SESSION_COOKIE}=${value}`)).get('profile'), data.profile);
  });
});
