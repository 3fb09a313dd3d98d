/** Adapter conformance: destroy, regenerate, rotation and concurrent updates through the adapter. */
import assert from 'node:assert/strict';
import { tokenKey } from '../../core/crypto.js';
import type { AdapterSuite } from './harness.js';

/** Declares the lifecycle tests. */
export function describeLifecycle({
  it,
  ctx,
  get,
  sessionCookies,
  tokenOf,
  newSession,
  assertNoStore,
}: AdapterSuite): void {
  it('clears the cookie on destroy() and treats a replay as anonymous', async () => {
    const token = await newSession();
    const reply = await get('/destroy', { token });
    assert.equal(reply.status, 200);
    const cookies = sessionCookies(reply);
    assert.equal(cookies.length, 1);
    assert.match(cookies[0] ?? '', /^__Host-[^=]+=;.*Max-Age=0/i);
    assertNoStore(reply);
    const replay = await get('/read', { token });
    assert.deepEqual(replay.json(), { count: null, n: null, note: null, isNew: true });
  });

  it('issues a new token on regenerate() and the old token is dead', async () => {
    const token = await newSession();
    const reply = await get('/regenerate', { token });
    const renewed = tokenOf(reply);
    assert.notEqual(renewed, token);
    assertNoStore(reply);
    assert.deepEqual((await get('/read', { token: renewed })).json(), {
      count: 1,
      n: null,
      note: null,
      isNew: false,
    });
    assert.equal((await get('/read', { token })).json().isNew, true);
    // The old record is retired: no data, only the (unfollowable) link a revocation needs.
    const retired = await ctx().inner.get(tokenKey(token));
    assert.deepEqual([retired?.data, retired?.meta.successor?.regenerated], [{}, true]);
  });

  it('re-issues the cookie when the token is due for rotation', async () => {
    const token = await newSession();
    ctx().clock.advanceSeconds(901);
    const reply = await get('/read', { token });
    assert.equal(reply.json().count, 1);
    const rotated = tokenOf(reply);
    assert.notEqual(rotated, token);
    assertNoStore(reply);
    const inGrace = await get('/count', { token });
    assert.equal(inGrace.json().count, 2);
    assert.equal(tokenOf(inGrace), rotated);
    assert.equal((await get('/read', { token: rotated })).json().count, 2);
  });

  it('ends update() from 20 parallel requests at exactly 20', async () => {
    const token = await newSession();
    const replies = await Promise.all(Array.from({ length: 20 }, () => get('/increment', { token })));
    assert.deepEqual(
      replies.map((r) => r.status),
      replies.map(() => 200),
    );
    const written = replies.map((r) => Number(r.json().n)).sort((a, b) => a - b);
    assert.deepEqual(
      written,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.equal((await get('/read', { token })).json().n, 20);
  });
}
