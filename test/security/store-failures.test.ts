/**
 * SEC-43 to SEC-45 and SEC-48: persisting before responding, failures that must not claim success,
 * no blind last-writer-wins, degraded mode — over HTTP through `withSession`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { SessionHandler } from '../../src/adapters/node.js';
import { createSessionManager, type SessionStore } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createFakeClock } from '../../src/testing/index.js';
import {
  type AppData,
  appHandler,
  cookiesNamed,
  json,
  recordEvents,
  SESSION_COOKIE,
  sendJson,
  serve,
  snapshot,
  storeApp,
  urlOf,
} from './harness.js';

const WRITE_DELAY_MS = 500;

/** `inner` with every write delayed and logged once it has landed. */
function slowWrites(inner: SessionStore, log: string[]): SessionStore {
  async function landed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    await delay(WRITE_DELAY_MS);
    const result = await run();
    log.push(`${operation} landed`);
    return result;
  }
  const store: SessionStore = {
    kind: inner.kind,
    get: (key) => inner.get(key),
    set: (key, record) => landed('set', () => inner.set(key, record)),
    patch: (key, patch) => landed('patch', () => inner.patch(key, patch)),
    destroy: (key) => landed('destroy', () => inner.destroy(key)),
  };
  return store;
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('persisting before responding (SEC-43)', () => {
  it('SEC-43: with store writes delayed 500 ms, no response arrives before its write has landed, and an immediate follow-up sees it', async () => {
    const clock = createFakeClock();
    const log: string[] = [];
    const inner = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
    const manager = createSessionManager<AppData>({ store: slowWrites(inner, log), clock, trustProxy: true });
    const app = await serve(manager, appHandler);
    const user = app.browser();
    /** Requests `path` and returns the store writes that had landed when the response arrived. */
    const landedBefore = async (path: string) => {
      log.length = 0;
      await user.request(path);
      return [...log];
    };
    try {
      assert.deepEqual(await landedBefore('/count'), ['set landed']);
      assert.deepEqual(json(await user.request('/read')).data, { n: 1 });
      assert.deepEqual(await landedBefore('/set?k=note&v=saved'), ['patch landed']);
      assert.deepEqual(json(await user.request('/read')).data, { n: 1, note: 'saved' });
      clock.advanceSeconds(181);
      assert.deepEqual(await landedBefore('/read'), ['patch landed'], 'the touch');
      // login: the new record, the compare-and-set that retires the old one, then the handler's write.
      assert.deepEqual(await landedBefore('/login?user=alice'), [
        'set landed',
        'patch landed',
        'patch landed',
      ]);
      assert.equal(
        json(await user.request('/read')).userId,
        'alice',
        'the redirect after login raced the save',
      );
      const loggedIn = user.cookie();
      // logout: the compare-and-set that ends the record (a dead link), then its delete.
      assert.deepEqual(await landedBefore('/logout'), ['patch landed', 'destroy landed']);
      const replay = app.browser();
      replay.setCookie(loggedIn);
      assert.equal(json(await replay.request('/read')).isNew, true);
    } finally {
      await app.close();
      await manager.close();
    }
  });
});

describe('failures that must not claim success (SEC-44)', () => {
  it('SEC-44: answers a logout whose store delete fails with 503 and records a store-error event; the session ended all the same (its record was killed before the delete)', async () => {
    const app = await storeApp();
    const recorder = recordEvents();
    try {
      const user = app.browser();
      await user.request('/count');
      const token = user.cookie();
      app.store.failing.add('destroy');
      const logout = await user.request('/logout');
      app.store.failing.clear();
      assert.equal(logout.status, 503);
      assert.deepEqual(logout.setCookies, [], 'a failed logout must not look like one that worked');
      assert.equal(logout.headers.get('location'), null);
      assert.ok(recorder.events.some((e) => e.type === 'store-error' && e.reason === 'destroy'));
      assert.equal(user.cookie(), token);
      // The revocation's first write (the compare-and-set that turns the record into a dead link) landed:
      // the session does not load again, though the logout answered 503 (never success with it alive).
      assert.equal(json(await user.request('/read')).isNew, true);
    } finally {
      recorder.stop();
      await app.close();
    }
  });
});

describe('no blind last-writer-wins (SEC-45)', () => {
  let parked = deferred();
  let release = deferred();
  let arrivals: Array<() => void> = [];
  /** Resolves once `count` requests are waiting in it. */
  const meet = (count: number) =>
    new Promise<void>((resolve) => {
      arrivals.push(resolve);
      if (arrivals.length === count) for (const go of arrivals.splice(0)) go();
    });
  const handler: SessionHandler<AppData> = async (req, res, session) => {
    const url = urlOf(req);
    if (url.pathname === '/slow') {
      parked.resolve();
      await release.promise;
      const key = url.searchParams.get('k');
      if (key !== null) session.set(key, 'from the slow request');
      return sendJson(res, snapshot(session));
    }
    if (url.pathname === '/increment') {
      await meet(2);
      const n = await session.update('n', (value) => (typeof value === 'number' ? value : 0) + 1);
      return sendJson(res, { n });
    }
    return appHandler(req, res, session);
  };

  /** Runs a slow request (path `slow`) that loads before `/set?k=x` writes and ends after it. */
  async function race(slow: string): Promise<Record<string, unknown>> {
    parked = deferred();
    release = deferred();
    const app = await storeApp({}, handler);
    try {
      const user = app.browser();
      await user.request('/count');
      app.clock.advanceSeconds(181); // the slow request is due a touch
      const pending = user.request(slow);
      await parked.promise;
      await user.request('/set?k=x&v=1');
      release.resolve();
      assert.equal((await pending).status, 200);
      return json(await user.request('/read'));
    } finally {
      await app.close();
    }
  }

  it('SEC-45: keeps a write made while a slower, unmodified request of the same session is in flight', async () => {
    assert.deepEqual((await race('/slow')).data, { n: 1, x: '1' });
  });

  it('SEC-45: keeps both writes when the slower request changes another key', async () => {
    assert.deepEqual((await race('/slow?k=y')).data, { n: 1, x: '1', y: 'from the slow request' });
  });

  it('SEC-45: with one compare-and-set attempt, two concurrent update()s end in one success and one 503, never a silent loss', async () => {
    arrivals = [];
    const app = await storeApp({ updateAttempts: 1 }, handler);
    try {
      const user = app.browser();
      await user.request('/count');
      const replies = await Promise.all([user.request('/increment'), user.request('/increment')]);
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, 503]);
      assert.deepEqual(json(await user.request('/read')).data, { n: 2 });
    } finally {
      await app.close();
    }
  });
});

describe('degraded mode (SEC-48)', () => {
  it('SEC-48: with onStoreError "anonymous", a store read failure serves an anonymous session that never replaces the user’s cookie', {}, async () => {
    const app = await storeApp({ onStoreError: 'anonymous' });
    try {
      const user = app.browser();
      await user.request('/count');
      const token = user.cookie();
      app.store.failing.add('get');
      const degraded = await user.request('/count');
      app.store.failing.clear();
      assert.ok(degraded.status === 200 || degraded.status === 503, `status ${degraded.status}`);
      assert.deepEqual(
        cookiesNamed(degraded).filter((c) => c.value !== ''),
        [],
        `the degraded response replaced the ${SESSION_COOKIE} cookie`,
      );
      assert.equal(user.cookie(), token);
      assert.deepEqual(json(await user.request('/read')).data, { n: 1 });
    } finally {
      await app.close();
    }
  });
});
