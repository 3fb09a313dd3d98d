/**
 * SEC-34, SEC-40, SEC-41: failing quietly, logging without secrets, detection hooks — over HTTP
 * through `withSession`.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import type { SessionHandler } from '../../src/adapters/node.js';
import { createCookieSessionManager } from '../../src/cookie-session.js';
import { randomString, randomToken, tokenKey } from '../../src/core/crypto.js';
import { getCounters } from '../../src/index.js';
import { createFakeClock } from '../../src/testing/index.js';
import {
  type App,
  type AppData,
  appHandler,
  type Browser,
  cookiesNamed,
  isClearing,
  json,
  type Reply,
  recordEvents,
  SESSION_COOKIE,
  sendJson,
  serve,
  storeApp,
} from './harness.js';

const K1 = 'sec-tests-k1-Qe1WkZq8mX2rB7nL5pD4sF6hJ0aG9uK3iO8tT3v0';
const K2 = 'sec-tests-k2-Zr8Qm2Lx7Vn4Kc1Hs9Gd6Ff3Jw0Pt5Yb8Ue2Io7A';
const K3 = 'sec-tests-k3-Lm4Nb7Vc2Xz9Qw1Er5Ty8Ui3Op6As0Df4Gh7Jk2';

/** Answers what an anonymous visitor sees, identical for every anonymous request. */
const probe: SessionHandler<AppData> = (_req, res, session) =>
  sendJson(res, { isNew: session.isNew, keys: session.keys() });

/** How many rejections (any reason) this process has counted. */
function rejections(): number {
  let total = 0;
  for (const [name, count] of Object.entries(getCounters())) if (name.startsWith('rejected:')) total += count;
  return total;
}

/** Status, headers (but the date) and body: what must not differ between two rejected cookies. */
function shape(reply: Reply): string {
  const headers = [...reply.headers].filter(([name]) => name !== 'date').map(([n, v]) => `${n}: ${v}`);
  return `${reply.status}\n${headers.sort().join('\n')}\n\n${reply.body}`;
}

/** 1,000 cookie values a client could send: garbage of every shape and mutations of `valid`. */
function badCookies(valid: string): string[] {
  const odd = ["'", '../../etc/passwd', '%00%00', '"quoted"', 'a b', '__proto__', '{"$ne":null}', 'null'];
  const out: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const at = i % (valid.length - 1);
    switch (i % 10) {
      case 0:
        out.push(randomToken());
        break;
      case 1:
        out.push(`${valid.slice(0, at)}${valid[at] === 'A' ? 'B' : 'A'}${valid.slice(at + 1)}`);
        break;
      case 2:
        out.push(valid.slice(0, at));
        break;
      case 3:
        out.push(`${valid}${randomString(1 + (i % 5))}`);
        break;
      case 4:
        out.push(randomString(1 + (i % 300)));
        break;
      case 5:
        out.push('x'.repeat(3000 + i));
        break;
      case 6:
        out.push(odd[i % odd.length] ?? '');
        break;
      case 7:
        out.push('');
        break;
      case 8:
        out.push('\u00ff'.repeat(1 + (i % 60)));
        break;
      default:
        out.push([...valid].reverse().join(''));
    }
  }
  return out;
}

/** Sends each bad cookie (20 at a time) and returns the distinct response shapes. */
async function sendAll(app: App, values: string[]): Promise<Set<string>> {
  const shapes = new Set<string>();
  for (let i = 0; i < values.length; i += 20) {
    const replies = await Promise.all(
      values.slice(i, i + 20).map((value) => {
        const client = app.browser();
        client.setCookie(value);
        return client.request('/read');
      }),
    );
    for (const reply of replies) shapes.add(shape(reply));
  }
  return shapes;
}

function assertQuietAnonymous(shapes: Set<string>): void {
  assert.equal(shapes.size, 1, [...shapes].slice(0, 3).join('\n----\n'));
  const [only = ''] = shapes;
  assert.match(only, /^200\n/);
  assert.match(only, /"isNew":true/);
  assert.match(only, new RegExp(`set-cookie: ${SESSION_COOKIE}=; Max-Age=0`));
  assert.doesNotMatch(only, /error|exception|\bat \S+ \(|\.ts:\d+/i);
}

describe('failing quietly (SEC-34)', () => {
  it('SEC-34: answers 1,000 garbage or mutated tokens with identical anonymous responses and counts 1,000 rejections', async () => {
    const app = await storeApp({}, (req, res, session) =>
      req.url === '/count' ? appHandler(req, res, session) : probe(req, res, session),
    );
    try {
      const user = app.browser();
      await user.request('/count');
      const token = user.cookie();
      assert.ok(token);
      const before = rejections();
      assertQuietAnonymous(await sendAll(app, badCookies(token)));
      assert.equal(rejections() - before, 1000);
    } finally {
      await app.close();
    }
  });

  it('SEC-34: answers 1,000 garbage or mutated sealed cookies with identical anonymous responses and counts 1,000 rejections', async () => {
    const manager = createCookieSessionManager<AppData>({ secrets: [K1], trustProxy: true });
    const app = await serve(manager, (req, res, session) =>
      req.url === '/count' ? appHandler(req, res, session) : probe(req, res, session),
    );
    try {
      const user = app.browser();
      await user.request('/count');
      const sealed = user.cookie();
      assert.ok(sealed);
      const before = rejections();
      assertQuietAnonymous(await sendAll(app, badCookies(sealed)));
      assert.equal(rejections() - before, 1000);
    } finally {
      await app.close();
    }
  });
});

describe('detection hooks over HTTP (SEC-41)', () => {
  it('SEC-41: raises one bruteforce event naming the client after 100 invalid cookies from it', async () => {
    const app = await storeApp();
    const recorder = recordEvents();
    try {
      const send = async (count: number) => {
        for (let i = 0; i < count; i++) {
          const client = app.browser();
          client.setCookie(i % 2 === 0 ? randomToken() : 'garbage');
          await client.request('/read');
        }
      };
      await send(99);
      assert.equal(recorder.events.filter((e) => e.type === 'bruteforce').length, 0);
      await send(21);
      const alarms = recorder.events.filter((e) => e.type === 'bruteforce');
      assert.equal(alarms.length, 1);
      assert.match(String(alarms[0]?.detail?.ip), /127\.0\.0\.1$/);
    } finally {
      recorder.stop();
      await app.close();
    }
  });

  it('SEC-41: with binding { userAgent, onMismatch: "destroy" }, ends the session when its User-Agent changes', async () => {
    const app = await storeApp({ binding: { userAgent: true, onMismatch: 'destroy' } });
    const recorder = recordEvents();
    try {
      const firefox = { headers: { 'user-agent': 'Firefox/140' } };
      const user = app.browser();
      await user.request('/count', firefox);
      const token = user.cookie();
      assert.equal(json(await user.request('/read', firefox)).isNew, false);
      const thief = app.browser();
      thief.setCookie(token);
      const stolen = await thief.request('/read', { headers: { 'user-agent': 'curl/8' } });
      assert.equal(json(stolen).isNew, true);
      assert.ok(cookiesNamed(stolen).every(isClearing));
      assert.equal(recorder.events.filter((e) => e.type === 'binding-mismatch').length, 1);
      assert.equal(json(await user.request('/read', firefox)).isNew, true, 'the bound session survived');
    } finally {
      recorder.stop();
      await app.close();
    }
  });
});

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
