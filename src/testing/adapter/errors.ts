/** Adapter conformance: a failing store or a throwing handler voids the response and persists nothing. */
import assert from 'node:assert/strict';
import type { AdapterSuite } from './harness.js';

/** Declares the failure tests. */
export function describeErrors({ it, ctx, get, sessionCookies, newSession }: AdapterSuite): void {
  it('answers 503 without Set-Cookie when the store fails to load', async () => {
    const token = await newSession();
    ctx().spy.failing.add('get');
    const reply = await get('/read', { token });
    assert.equal(reply.status, 503);
    assert.deepEqual(reply.setCookies, []);
    assert.ok(!reply.text.includes(token), 'the response body holds the token');
  });

  it('answers 503 without Set-Cookie when the store fails to commit', async () => {
    ctx().spy.failing.add('set');
    const created = await get('/app-cookie');
    assert.equal(created.status, 503);
    // The request failed: the app's own cookies (e.g. a "logged in" hint) must not go out either.
    assert.deepEqual(
      created.setCookies,
      [],
      'a failed commit voids the whole response, app cookies included',
    );
    ctx().spy.failing.clear();
    const token = await newSession();
    ctx().spy.failing.add('patch');
    const changed = await get('/note', { token });
    assert.equal(changed.status, 503);
    assert.deepEqual(changed.setCookies, []);
    ctx().spy.failing.clear();
    assert.equal((await get('/read', { token })).json().note, null);
  });

  it('persists nothing a throwing handler set', async () => {
    const fresh = await get('/boom');
    assert.ok(fresh.status >= 500, `status ${fresh.status}`);
    assert.deepEqual(sessionCookies(fresh), []);
    assert.equal(ctx().spy.total(), 0);
    const token = await newSession();
    const reply = await get('/boom', { token });
    assert.ok(reply.status >= 500, `status ${reply.status}`);
    assert.deepEqual(sessionCookies(reply), []);
    assert.equal(ctx().spy.calls.patch + ctx().spy.calls.set, 0);
    assert.equal((await get('/read', { token })).json().note, null);
  });
}
