/**
 * SEC-5, SEC-13, SEC-16: what goes over the wire, checked with real HTTP requests through `withSession`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SessionHandler } from '../../src/adapters/node.js';
import { createCookieSessionManager } from '../../src/cookie-session.js';
import { createFakeClock } from '../../src/testing/index.js';
import {
  type AppData,
  appHandler,
  cookiesNamed,
  json,
  type Reply,
  type RequestOptions,
  SESSION_COOKIE,
  type StoreApp,
  serve,
  storeApp,
  urlOf,
} from './harness.js';

const SECRET = 'sec-tests-Qe1WkZq8mX2rB7nL5pD4sF6hJ0aG9uK3iO8tT3v0c9y';

/** The app routes plus two that ask for public caching, which a session cookie must override. */
const cachingHandler: SessionHandler<AppData> = (req, res, session) => {
  const path = urlOf(req).pathname;
  if (path === '/public') {
    res.setHeader('cache-control', 'public, max-age=600');
    session.set('note', 'public');
    res.end('public');
    return;
  }
  if (path === '/public-writehead') {
    session.set('note', 'public');
    res.writeHead(200, { 'Cache-Control': 'public, max-age=600' });
    res.end('public');
    return;
  }
  return appHandler(req, res, session);
};

async function cookieOnlyApp(options: { touchIntervalSeconds?: number } = {}) {
  const clock = createFakeClock();
  const manager = createCookieSessionManager<AppData>({
    secrets: [SECRET],
    clock,
    trustProxy: true,
    ...options,
  });
  return { app: await serve(manager, cachingHandler), clock };
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Asserts the Set-Cookie lines of `reply` name each cookie once, repeat no attribute, and hold base64url values. */
function assertWellFormed(label: string, reply: Reply): void {
  const names = reply.setCookies.map((line) => line.slice(0, line.indexOf('=')));
  assert.equal(new Set(names).size, names.length, `${label}: a cookie name repeats in ${names.join(', ')}`);
  const session = cookiesNamed(reply);
  assert.equal(session.length, 1, `${label}: expected one ${SESSION_COOKIE} Set-Cookie`);
  for (const cookie of cookiesNamed(reply)) {
    assert.match(cookie.value, BASE64URL, `${label}: value`);
    const attributeNames = cookie.attributes.map((a) => a.split('=', 1)[0]?.toLowerCase());
    assert.equal(new Set(attributeNames).size, attributeNames.length, `${label}: repeated attribute`);
  }
}

describe('over HTTP through withSession', () => {
  let app: StoreApp;
  before(async () => {
    app = await storeApp();
  });
  after(() => app.close());

  it('SEC-5: ignores a valid token in the query, a form field, Authorization and other headers, and echoes it nowhere but Set-Cookie', async () => {
    const issued: string[] = [];
    const replies: Reply[] = [];
    const user = app.browser();
    const remember = (reply: Reply): Reply => {
      replies.push(reply);
      for (const cookie of cookiesNamed(reply)) if (cookie.value !== '') issued.push(cookie.value);
      return reply;
    };
    remember(await user.request('/count'));
    const token = user.cookie();
    assert.ok(token);

    const elsewhere: Array<[string, RequestOptions]> = [
      [`/read?sid=${token}&${SESSION_COOKIE}=${token}&session=${token}`, {}],
      [
        '/read',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `${SESSION_COOKIE}=${token}&sid=${token}`,
        },
      ],
      [
        '/read',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"sid":"${token}"}` },
      ],
      ['/read', { headers: { authorization: `Bearer ${token}` } }],
      ['/read', { headers: { authorization: token } }],
      ['/read', { headers: { 'x-session-id': token, 'x-sid': token, 'x-csrf-token': token } }],
      ['/read', { headers: { cookie: `sid=${token}; session=${token}; __Secure-sid=${token}` } }],
    ];
    app.store.reset();
    for (const [path, init] of elsewhere) {
      const reply = remember(await app.browser().request(path, init));
      assert.equal(reply.status, 200, path);
      assert.equal(json(reply).isNew, true, `a token outside the session cookie was used (${path})`);
    }
    assert.equal(app.store.calls.get, 0, 'a token outside the session cookie reached the store');

    // Every kind of response that carries a token (new, rotated, regenerated, login redirect, stream),
    // then a logout redirect and a store failure.
    app.clock.advanceSeconds(901);
    remember(await user.request('/read'));
    remember(await user.request('/regenerate'));
    remember(await user.request('/login?user=alice'));
    remember(await user.request('/stream'));
    remember(await user.request('/set?k=note&v=hello'));
    const loggedIn = user.cookie();
    remember(await user.request('/logout'));
    app.store.failing.add('get');
    try {
      user.setCookie(loggedIn);
      assert.equal(remember(await user.request('/read')).status, 503);
    } finally {
      app.store.failing.clear();
    }
    assert.ok(new Set(issued).size >= 4, `tokens issued: ${issued.length}`);
    for (const reply of replies) {
      const headers = [...reply.headers].filter(([name]) => name !== 'set-cookie');
      const exposed = `${reply.body}\n${headers.map(([name, value]) => `${name}: ${value}`).join('\n')}`;
      for (const value of issued) {
        assert.equal(exposed.includes(value), false, `a token appears outside Set-Cookie: ${exposed}`);
      }
    }
  });

  it('SEC-13: sends one Set-Cookie per cookie name, no repeated attribute and a base64url value when a request regenerates and then writes', async () => {
    const fresh = app.browser();
    assertWellFormed('regenerate on a new session', await fresh.request('/regenerate'));
    assertWellFormed('regenerate on a stored session', await fresh.request('/regenerate'));
    app.clock.advanceSeconds(901);
    assertWellFormed('regenerate while rotation is due', await fresh.request('/regenerate'));
    const reply = await fresh.request('/login?user=bob');
    assertWellFormed('login, then a write', reply);
    assert.equal(reply.status, 302);

    const { app: sealedApp } = await cookieOnlyApp();
    try {
      const browser = sealedApp.browser();
      assertWellFormed('cookie-only: regenerate on a new session', await browser.request('/regenerate'));
      assertWellFormed('cookie-only: regenerate on a stored session', await browser.request('/regenerate'));
      assertWellFormed('cookie-only: login, then a write', await browser.request('/login?user=carol'));
    } finally {
      await sealedApp.close();
    }
  });

  it('SEC-16: sends Cache-Control: no-store with every session Set-Cookie: new, touched, rotated, in grace, regenerated, login, logout, duplicate, streamed, rejected cookie-only', async () => {
    const persistent = await storeApp({ cookie: { maxAge: 86_400 } }, cachingHandler);
    const checked: string[] = [];
    const expectNoStore = (label: string, reply: Reply) => {
      assert.ok(cookiesNamed(reply).length > 0, `${label}: the step sent no session cookie`);
      assert.match(reply.headers.get('cache-control') ?? '', /\bno-store\b/, label);
      checked.push(label);
    };
    try {
      const user = persistent.browser();
      expectNoStore('new session', await user.request('/count'));
      const first = user.cookie();
      persistent.clock.advanceSeconds(181);
      expectNoStore('touch of a persistent cookie', await user.request('/read'));
      persistent.clock.advanceSeconds(720);
      expectNoStore('rotation', await user.request('/read'));
      const stale = persistent.browser();
      stale.setCookie(first);
      expectNoStore('old token inside the grace window', await stale.request('/read'));
      expectNoStore('regenerate', await user.request('/regenerate'));
      expectNoStore('login redirect', await user.request('/login'));
      expectNoStore('app asked for public caching', await persistent.browser().request('/public'));
      expectNoStore(
        'app asked for public caching in writeHead',
        await persistent.browser().request('/public-writehead'),
      );
      expectNoStore('headers flushed early', await persistent.browser().request('/stream'));
      expectNoStore('logout', await user.request('/logout'));
      // A refused or expired store-backed cookie is left alone (a newer one may be on its way, issue 11
      // race 5); duplicate values are the one refusal that clears (SEC-15).
      const tossed = persistent.browser();
      expectNoStore(
        'duplicate cookies cleared',
        await tossed.request('/read', { headers: { cookie: `${SESSION_COOKIE}=a; ${SESSION_COOKIE}=b` } }),
      );
    } finally {
      await persistent.close();
    }

    const { app: sealedApp, clock } = await cookieOnlyApp({ touchIntervalSeconds: 60 });
    try {
      const user = sealedApp.browser();
      expectNoStore('cookie-only: new session', await user.request('/count'));
      clock.advanceSeconds(61);
      expectNoStore('cookie-only: touch', await user.request('/read'));
      expectNoStore('cookie-only: chunked', await user.request(`/set?k=blob&v=${'x'.repeat(5000)}`));
      expectNoStore(
        'cookie-only: app asked for public caching',
        await sealedApp.browser().request('/public'),
      );
      expectNoStore('cookie-only: regenerate', await user.request('/regenerate'));
      expectNoStore('cookie-only: logout', await user.request('/logout'));
      const garbage = sealedApp.browser();
      garbage.setCookie('AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      expectNoStore('cookie-only: rejected cookie cleared', await garbage.request('/read'));
    } finally {
      await sealedApp.close();
    }
    assert.equal(checked.length, 18);
  });
});
