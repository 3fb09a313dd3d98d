/** Adapter conformance: the response finishes only after the session write has landed. */
import assert from 'node:assert/strict';
import { tokenKey } from '../../core/crypto.js';
import type { AdapterSuite } from './harness.js';
import { conformanceRoutes } from './routes.js';

const WRITE_DELAY_MS = 200;

/** Declares the commit timing tests. */
export function describeCommitTiming(
  { it, ctx, get, tokenOf, newSession, assertNoStore }: AdapterSuite,
  streaming: boolean,
): void {
  it('finishes the response only after the write has landed', async () => {
    const token = await newSession();
    ctx().spy.delayMs = WRITE_DELAY_MS;
    const reply = await get('/note', { token });
    assert.equal(reply.json().note, 'saved');
    const stored = await ctx().inner.get(tokenKey(token));
    assert.equal(stored?.data.note, 'saved');
  });

  it(
    'carries the cookie on a response that flushes its headers early and persists the data before it ends',
    async () => {
      ctx().spy.delayMs = WRITE_DELAY_MS;
      const reply = await get(conformanceRoutes.streaming.path);
      assert.equal(reply.status, 200);
      assert.equal(reply.text, 'first;last');
      const token = tokenOf(reply);
      assertNoStore(reply);
      const stored = await ctx().inner.get(tokenKey(token));
      assert.deepEqual(stored?.data, { count: 1, note: 'streamed' });
      ctx().spy.delayMs = 0;
      const next = await get('/read', { token });
      assert.deepEqual(next.json(), { count: 1, n: null, note: 'streamed', isNew: false });
    },
    streaming ? false : 'the harness does not mount the streaming route',
  );
}
