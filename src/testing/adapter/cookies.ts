/** Adapter conformance: the session cookie a response carries (attributes, tampering, app cookies, HTTPS). */
import assert from 'node:assert/strict';
import type { AdapterSuite } from './harness.js';

/** Declares the cookie tests. */
export function describeCookieRules({
  it,
  ctx,
  get,
  sessionCookies,
  tokenOf,
  newSession,
  assertNoStore,
}: AdapterSuite): void {
  it('sets exactly one secure session cookie and Cache-Control: no-store on a new session', async () => {
    const reply = await get('/count');
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json(), { count: 1, n: null, note: null, isNew: true });
    const cookies = sessionCookies(reply);
    assert.equal(cookies.length, 1);
    const [pair, ...attributes] = String(cookies[0]).split(/;\s*/);
    assert.match(pair ?? '', /^__Host-[^=]+=[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(
      attributes.map((a) => a.toLowerCase()),
      ['path=/', 'secure', 'httponly', 'samesite=lax'],
    );
    assertNoStore(reply);
    assert.equal(ctx().spy.calls.set, 1);
    assert.equal(ctx().spy.total(), 1);
  });

  it('gives a fresh session for a tampered cookie', async () => {
    const token = await newSession();
    const tampered = (token.startsWith('A') ? 'B' : 'A') + token.slice(1);
    const reply = await get('/count', { token: tampered });
    assert.deepEqual(reply.json(), { count: 1, n: null, note: null, isNew: true });
    const fresh = tokenOf(reply);
    assert.notEqual(fresh, tampered);
    assert.notEqual(fresh, token);
    assert.equal((await get('/read', { token })).json().count, 1);
  });

  it('appends the session cookie to the Set-Cookie headers the app sets', async () => {
    const created = await get('/app-cookie');
    assert.ok(created.setCookies.includes('app=1; Path=/; HttpOnly'), created.setCookies.join(' | '));
    const token = tokenOf(created);
    assertNoStore(created);
    const again = await get('/app-cookie', { token });
    assert.deepEqual(again.setCookies, ['app=1; Path=/; HttpOnly']);
  });

  it('sets no cookie on a plain-HTTP request (SEC-17)', async () => {
    const reply = await get('/count', { https: false });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.setCookies, []);
    assert.equal(ctx().spy.calls.set, 0);
  });

  it('sets the Secure cookie on a plain-HTTP request from this machine to a loopback host', async () => {
    const reply = await get('/count', { direct: true });
    assert.equal(reply.status, 200);
    assert.match(sessionCookies(reply)[0] ?? '', /; Secure/);
    const token = tokenOf(reply);
    assert.equal((await get('/read', { token, direct: true })).json().count, 1);
  });
}
