/**
 * SEC-23 to SEC-26: rotation, idle and absolute timeouts, server-held timestamps — over HTTP through
 * `withSession`, with the default lifetimes (idle 30 min, absolute 12 h, rotation 15 min, grace 60 s).
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { createCookieSessionManager } from '../../src/cookie-session.js';
import { tokenKey } from '../../src/core/crypto.js';
import { createFakeClock } from '../../src/testing/index.js';
import {
  appHandler,
  type Browser,
  cookiesNamed,
  isClearing,
  json,
  recordEvents,
  type StoreApp,
  serve,
  storeApp,
} from './harness.js';

const SECRET = 'sec-tests-Zr8Qm2Lx7Vn4Kc1Hs9Gd6Ff3Jw0Pt5Yb8Ue2Io7Ay4';
const MINUTE = 60;
const HOUR = 3600;

describe('session lifetimes over HTTP (default options)', () => {
  let app: StoreApp;
  let start: number;
  /** Sets the fake clock to `seconds` after the start of the test. */
  const at = (seconds: number) => app.clock.set(start + seconds * 1000);

  beforeEach(async () => {
    app = await storeApp();
    start = app.clock.now();
  });
  afterEach(() => app.close());

  /** Requests /read every `step` seconds from `from` (exclusive) to `to` (exclusive); each must find the session. */
  async function stayActive(user: Browser, from: number, to: number, step: number): Promise<number> {
    let requests = 0;
    for (let t = from + step; t < to; t += step) {
      at(t);
      const reply = await user.request('/read');
      assert.equal(json(reply).isNew, false, `the session was lost at t=${t}s`);
      requests++;
    }
    return requests;
  }

  it('SEC-23: rotates the token after rotateAfterSeconds; parallel requests with the old token get the same new token and keep every write; after the grace window the old token is dead', async () => {
    const recorder = recordEvents();
    try {
      const user = app.browser();
      await user.request('/count');
      const old = user.cookie();
      assert.ok(old);
      at(899);
      assert.deepEqual(
        cookiesNamed(await user.request('/read')),
        [],
        'no new token before rotateAfterSeconds',
      );
      at(901);
      const tabs = ['a', 'b', 'c', 'd', 'e'];
      const replies = await Promise.all(
        tabs.map((key) => {
          const tab = app.browser();
          tab.setCookie(old);
          return tab.request(`/set?k=${key}&v=${key}`);
        }),
      );
      const tokens = replies.map((reply) => {
        const cookies = cookiesNamed(reply);
        assert.equal(cookies.length, 1, 'every response with the old token carries the new one');
        return cookies[0]?.value;
      });
      assert.equal(new Set(tokens).size, 1, `the session forked into ${new Set(tokens).size} tokens`);
      const rotated = tokens[0];
      assert.ok(rotated && rotated !== old);
      const everything = { n: 1, a: 'a', b: 'b', c: 'c', d: 'd', e: 'e' };

      at(901 + 60);
      const inGrace = app.browser();
      inGrace.setCookie(old);
      const graceReply = await inGrace.request('/read');
      assert.deepEqual(json(graceReply).data, everything);
      assert.deepEqual(
        cookiesNamed(graceReply).map((c) => c.value),
        [rotated],
      );

      at(901 + 61);
      const late = app.browser();
      late.setCookie(old);
      const lateReply = await late.request('/read');
      assert.equal(json(lateReply).isNew, true, 'the old token works after its grace window');
      assert.ok(cookiesNamed(lateReply).every(isClearing));
      assert.ok(recorder.events.some((e) => e.type === 'reuse-detected' && e.id === tokenKey(rotated)));
      const live = app.browser();
      live.setCookie(rotated);
      assert.deepEqual(json(await live.request('/read')).data, everything);
    } finally {
      recorder.stop();
    }
  });

  it('SEC-24: keeps a session alive while requests come less than idleTimeoutSeconds apart and ends it idleTimeoutSeconds after the last one', async () => {
    const user = app.browser();
    await user.request('/count');
    at(30 * MINUTE - 1);
    assert.equal(json(await user.request('/read')).isNew, false);
    at(60 * MINUTE - 2);
    assert.equal(json(await user.request('/read')).isNew, false, 'activity did not reset the idle timeout');
    const captured = user.cookie();
    at(90 * MINUTE - 1);
    const reply = await user.request('/read');
    assert.equal(json(reply).isNew, true, 'alive 30 min + 1 s after the last request');
    assert.ok(cookiesNamed(reply).every(isClearing));
    // A client that keeps the cookie anyway (ignores its expiry, edits Max-Age) gets nothing back.
    const replay = app.browser();
    replay.setCookie(captured);
    assert.equal(json(await replay.request('/read')).isNew, true);
  });

  it('SEC-25: ends a session absoluteTimeoutSeconds after creation however active it was; rotation and regenerate() do not extend it', async () => {
    const user = app.browser();
    await user.request('/count');
    const before = await stayActive(user, 0, 6 * HOUR, 5 * MINUTE);
    at(6 * HOUR);
    assert.equal(json(await user.request('/regenerate')).isNew, false);
    const afterwards = await stayActive(user, 6 * HOUR, 12 * HOUR, 5 * MINUTE);
    assert.ok(before + afterwards > 100);
    at(12 * HOUR - 1);
    assert.equal(json(await user.request('/read')).isNew, false);
    at(12 * HOUR + 1);
    const reply = await user.request('/read');
    assert.equal(json(reply).isNew, true, 'alive past the absolute timeout');
    assert.ok(cookiesNamed(reply).every(isClearing));
  });

  it('SEC-25: login() restarts the absolute timeout', async () => {
    const user = app.browser();
    await user.request('/count');
    await stayActive(user, 0, 6 * HOUR, 5 * MINUTE);
    at(6 * HOUR);
    assert.equal((await user.request('/login?user=alice')).status, 302);
    await stayActive(user, 6 * HOUR, 18 * HOUR, 5 * MINUTE);
    at(18 * HOUR - 1);
    assert.equal(json(await user.request('/read')).userId, 'alice');
    at(18 * HOUR + 1);
    assert.equal(json(await user.request('/read')).isNew, true);
  });

  it('SEC-26: keeps the timestamps on the server: the cookie is only the token, and a replay after expiry fails whatever the client claims', async () => {
    const user = app.browser();
    await user.request('/count');
    const token = user.cookie();
    assert.ok(token);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const record = await app.store.get(tokenKey(token));
    assert.equal(record?.meta.createdAt, start);
    at(30 * MINUTE + 1);
    const replay = app.browser();
    replay.setCookie(token);
    const reply = await replay.request('/read', { headers: { date: new Date(start).toUTCString() } });
    assert.equal(json(reply).isNew, true);
  });
});

describe('cookie-only session lifetimes over HTTP', () => {
  const clock = createFakeClock();
  const manager = createCookieSessionManager({ secrets: [SECRET], clock, trustProxy: true });
  const ready = serve(manager, appHandler);
  after(async () => (await ready).close());

  it('SEC-26: refuses a sealed cookie with any byte of its timestamps edited, and a replay after expiry', async () => {
    const app = await ready;
    const user = app.browser();
    await user.request('/count');
    const value = user.cookie();
    assert.ok(value);
    const bytes = Buffer.from(value, 'base64url');
    // The plaintext starts {"i":"<22-char id>","c":<ms>,"s":<ms>,"a":<ms>: its timestamps are plaintext
    // bytes 34 to 82; the ciphertext starts after version (1), kid (4) and nonce (12).
    for (let index = 17 + 30; index < 17 + 90; index++) {
      const edited = Buffer.from(bytes);
      edited.writeUInt8(edited.readUInt8(index) ^ 0x01, index);
      const forger = app.browser();
      forger.setCookie(edited.toString('base64url'));
      assert.equal(json(await forger.request('/read')).isNew, true, `byte ${index} edited and accepted`);
    }
    assert.equal(json(await user.request('/read')).isNew, false);
    clock.advanceSeconds(30 * MINUTE);
    const replay = app.browser();
    replay.setCookie(value);
    assert.equal(json(await replay.request('/read')).isNew, true);
  });
});
