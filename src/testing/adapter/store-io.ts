/** Adapter conformance: the store I/O a request costs (one read, or none at all). */
import assert from 'node:assert/strict';
import type { AdapterSuite } from './harness.js';
import { conformanceRoutes } from './routes.js';

/** Declares the store I/O tests. */
export function describeStoreIo({ it, ctx, get, sessionCookies, newSession }: AdapterSuite): void {
  it('finds a returning session with one store read per request', async () => {
    const token = await newSession();
    const second = await get('/count', { token });
    assert.deepEqual(second.json(), { count: 2, n: null, note: null, isNew: false });
    assert.equal(sessionCookies(second).length, 0);
    assert.equal(ctx().spy.calls.get, 1);
    const third = await get('/count', { token });
    assert.equal(third.json().count, 3);
  });

  it('does no store I/O for a request without a cookie that leaves the session empty', async () => {
    const reply = await get('/read');
    assert.deepEqual(reply.json(), { count: null, n: null, note: null, isNew: true });
    assert.deepEqual(reply.setCookies, []);
    assert.equal(ctx().spy.total(), 0);
  });

  it('does no store I/O for a malformed cookie and leaves it alone (a newer cookie may be on its way)', async () => {
    const reply = await get('/read', { token: 'not-a-token' });
    assert.equal(reply.json().isNew, true);
    assert.equal(ctx().spy.total(), 0);
    assert.deepEqual(sessionCookies(reply), []);
  });

  it('does no store I/O on a route outside the session scope', async () => {
    const token = await newSession();
    const reply = await get(conformanceRoutes.plain.path, { token });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json(), { plain: true });
    assert.deepEqual(reply.setCookies, []);
    assert.equal(ctx().spy.total(), 0);
  });
}
