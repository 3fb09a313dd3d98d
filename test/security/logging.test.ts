/**
 * SEC-40: a full session lifecycle over HTTP through `withSession`, store-backed and cookie-only,
 * leaves no part of any token or cookie in events, errors, warnings or error pages.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { createCookieSessionManager } from '../../src/cookie-session.js';
import { randomToken, tokenKey } from '../../src/core/crypto.js';
import { createFakeClock } from '../../src/testing/index.js';
import {
  type App,
  type AppData,
  appHandler,
  type Browser,
  json,
  type Reply,
  recordEvents,
  serve,
  storeApp,
} from './harness.js';

const K1 = 'sec-tests-k1-Qe1WkZq8mX2rB7nL5pD4sF6hJ0aG9uK3iO8tT3v0';
const K2 = 'sec-tests-k2-Zr8Qm2Lx7Vn4Kc1Hs9Gd6Ff3Jw0Pt5Yb8Ue2Io7A';
const K3 = 'sec-tests-k3-Lm4Nb7Vc2Xz9Qw1Er5Ty8Ui3Op6As0Df4Gh7Jk2';

/** Every 12-character window of `values`: a match in logged text is a leaked token or cookie. */
function windowsOf(values: Iterable<string>): Set<string> {
  const windows = new Set<string>();
  for (const value of values)
    for (let i = 0; i + 12 <= value.length; i++) windows.add(value.slice(i, i + 12));
  return windows;
}

function leaks(text: string, windows: Set<string>): string[] {
  const found: string[] = [];
  for (let i = 0; i + 12 <= text.length; i++) {
    const window = text.slice(i, i + 12);
    if (windows.has(window)) found.push(window);
  }
  return found;
}

describe('logging (SEC-40)', () => {
  it('SEC-40: no event, error, warning or error page of a full lifecycle holds any part of an issued token or cookie', async () => {
    const issued = new Set<string>();
    const texts: string[] = [];
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.message} ${warning.stack ?? ''}`);
    const onError = (error: unknown, _req: IncomingMessage, res: ServerResponse) => {
      texts.push(
        error instanceof Error ? `${error.stack ?? ''} ${JSON.stringify(error)} ${String(error.cause)}` : '',
      );
      res.statusCode = 503;
      res.end('unavailable');
    };
    const recorder = recordEvents();
    process.on('warning', onWarning);
    const clock = createFakeClock();
    const start = clock.now();
    const at = (seconds: number) => clock.set(start + seconds * 1000);
    const app = await storeApp(
      {
        idleTimeoutSeconds: 600,
        absoluteTimeoutSeconds: 1000,
        rotateAfterSeconds: 300,
        rotationGraceSeconds: 30,
        touchIntervalSeconds: 60,
        binding: { userAgent: true },
        invalidTokens: { threshold: 3 },
      },
      appHandler,
      clock,
    );
    const stored = await serve(app.manager, appHandler, { onError });
    const sealedOld = createCookieSessionManager<AppData>({ secrets: [K1], clock, trustProxy: true });
    const notBefore = new Map<string, number>();
    const sealedNew = createCookieSessionManager<AppData>({
      secrets: [K2, K1],
      clock,
      trustProxy: true,
      maxCookies: 2,
      keyUsageWarningThreshold: 1,
      notBefore: (userId) => notBefore.get(userId),
    });
    const sealedOther = createCookieSessionManager<AppData>({ secrets: [K3], clock, trustProxy: true });
    const apps: App[] = [
      stored,
      await serve(sealedOld, appHandler),
      await serve(sealedNew, appHandler, { onError }),
      await serve(sealedOther, appHandler),
    ];
    const [, oldApp, newApp, otherApp] = apps;
    assert.ok(oldApp && newApp && otherApp);
    const replies: Reply[] = [];
    const send = async (browser: Browser, path: string, ua = 'ua-1', https = true) => {
      const reply = await browser.request(path, { headers: { 'user-agent': ua }, https });
      replies.push(reply);
      for (const cookie of reply.setCookies) {
        const value = cookie.slice(cookie.indexOf('=') + 1, cookie.indexOf(';'));
        if (value !== '') issued.add(value);
      }
      return reply;
    };
    const holding = (app: App, value: string | undefined): Browser => {
      const browser = app.browser();
      browser.setCookie(value);
      return browser;
    };
    try {
      const user = stored.browser();
      await send(user, '/count');
      const first = user.cookie();
      assert.ok(first);
      at(61);
      await send(user, '/read');
      at(301);
      await send(user, '/set?k=note&v=rotated');
      await send(holding(stored, first), '/read');
      at(332);
      await send(holding(stored, first), '/read');
      await send(user, '/regenerate');
      await send(user, '/login?user=alice');
      await send(user, '/read', 'ua-2');
      const current = String(json(await send(user, '/read')).id);
      assert.equal(await app.manager.revokeUserSessions('alice', { except: current }), 0);
      const beforeLogout = user.cookie();
      await send(user, '/logout');
      for (const bad of ['garbage', 'junk', randomToken()]) await send(holding(stored, bad), '/read');
      app.store.failing.add('get');
      await send(holding(stored, beforeLogout), '/read');
      app.store.failing.clear();
      await send(stored.browser(), '/count', 'ua-1', false);

      const idle = stored.browser();
      at(1000);
      await send(idle, '/count');
      at(1600);
      await send(idle, '/read');
      const lasting = stored.browser();
      at(2000);
      await send(lasting, '/count');
      for (const t of [2300, 2600, 2900, 3000]) {
        at(t);
        await send(lasting, '/read');
      }

      const sealedUser = oldApp.browser();
      await send(sealedUser, '/count');
      const sealedFirst = sealedUser.cookie();
      const moved = holding(newApp, sealedFirst);
      await send(moved, '/read');
      await send(moved, '/login?user=bob');
      const loggedIn = moved.cookie();
      at(3100);
      notBefore.set('bob', clock.now());
      await send(holding(newApp, loggedIn), '/read');
      await send(holding(newApp, `${sealedFirst?.slice(0, -4)}AAAA`), '/read');
      await send(
        holding(newApp, (await send(otherApp.browser(), '/count')).setCookies[0]?.split(/[=;]/)[1]),
        '/read',
      );
      await send(newApp.browser(), `/set?k=blob&v=${'z'.repeat(12_000)}`);
      await new Promise((resolve) => setImmediate(resolve));

      const types = new Set(recorder.events.map((e) => (e.reason ? `${e.type}:${e.reason}` : e.type)));
      for (const wanted of [
        'created',
        'loaded',
        'touched',
        'saved',
        'rotated',
        'rotated:key',
        'reuse-detected',
        'regenerated',
        'destroyed',
        'destroyed:revoke-user',
        'expired:expired-idle',
        'expired:expired-absolute',
        'rejected:malformed',
        'rejected:unknown',
        'rejected:reused',
        'rejected:tampered',
        'rejected:unknown-key',
        'rejected:revoked',
        'binding-mismatch',
        'bruteforce',
        'store-error:get',
        'insecure-transport',
        'key-usage',
      ]) {
        assert.ok(types.has(wanted), `no ${wanted} event among ${[...types].join(', ')}`);
      }
      const created = recorder.events.find((e) => e.type === 'created');
      assert.equal(created?.id, tokenKey(first));
      for (const event of recorder.events) {
        if (event.id !== undefined) assert.match(event.id, /^[A-Za-z0-9_-]{43}$/);
      }
      assert.ok(texts.length >= 2, 'the store failure and the oversized session reached onError');
      assert.ok(warnings.length >= 1, 'the key-usage warning was emitted');
      assert.ok(issued.size >= 12, `${issued.size} tokens and cookie values issued`);
      const logged = [
        JSON.stringify(recorder.events),
        ...texts,
        ...warnings,
        ...replies.filter((r) => r.status >= 400).map((r) => r.body),
      ].join('\n');
      assert.deepEqual(leaks(logged, windowsOf(issued)), []);
    } finally {
      process.off('warning', onWarning);
      recorder.stop();
      await Promise.all(apps.map((a) => a.close()));
      await app.close();
    }
  });
});
