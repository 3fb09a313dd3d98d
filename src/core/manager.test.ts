import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SessionStoreError } from '../errors.js';
import { createMemoryStore } from '../stores/memory.js';
import { createFakeClock, type FakeClock } from '../testing/fake-clock.js';
import { type InstrumentedStore, instrumentStore } from '../testing/instrumented-store.js';
import { randomToken, tokenKey } from './crypto.js';
import { DIAGNOSTICS_CHANNEL, type SessionEvent } from './diagnostics.js';
import { createSessionManager, type SessionManagerOptions, type StoreSessionManager } from './manager.js';

type Data = { n: number; cart: string[]; name: string; x: number; y: number };

let clock: FakeClock;
let store: InstrumentedStore;
let manager: StoreSessionManager<Data>;
let events: SessionEvent[];
const collect = (message: unknown) => {
  events.push(message as SessionEvent);
};

function setup(options: Partial<SessionManagerOptions> = {}): void {
  manager = createSessionManager<Data>({ store, clock, ...options });
}

beforeEach(() => {
  clock = createFakeClock();
  store = instrumentStore(createMemoryStore({ clock }));
  setup();
  events = [];
  subscribe(DIAGNOSTICS_CHANNEL, collect);
});
afterEach(async () => {
  unsubscribe(DIAGNOSTICS_CHANNEL, collect);
  await manager.close();
});

/** The token in a session Set-Cookie value. */
function tokenFrom(setCookies: string[]): string {
  const cookie = setCookies.find((c) => c.startsWith('__Host-sid='));
  assert.ok(cookie, `expected a session cookie in ${JSON.stringify(setCookies)}`);
  const value = cookie.slice('__Host-sid='.length).split(';')[0];
  assert.ok(value);
  return value;
}
const header = (token: string) => `theme=dark; __Host-sid=${token}; other=1`;

/** Creates a stored session with `n = 1` and returns its token. */
async function createStored(): Promise<string> {
  const session = await manager.load(undefined);
  session.set('n', 1);
  return tokenFrom(await manager.commit(session));
}

describe('createSessionManager', () => {
  describe('costs', () => {
    it('makes no store call and sets no cookie for a request without a cookie that writes nothing', async () => {
      const session = await manager.load('theme=dark');
      assert.equal(session.isNew, true);
      assert.equal(session.get('n'), undefined);
      assert.deepEqual(await manager.commit(session), []);
      assert.equal(store.total(), 0);
    });

    it('stores a new session with exactly one write and sets one cookie with the secure defaults', async () => {
      const session = await manager.load(undefined);
      session.set('n', 1);
      const cookies = await manager.commit(session);
      assert.equal(store.total(), 1);
      assert.equal(store.calls.set, 1);
      assert.equal(cookies.length, 1);
      assert.match(
        cookies[0] ?? '',
        /^__Host-sid=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
      );
    });

    it('reads an existing session with one store read and writes nothing when unchanged', async () => {
      const token = await createStored();
      store.reset();
      const session = await manager.load(header(token));
      assert.equal(session.isNew, false);
      assert.equal(session.get('n'), 1);
      assert.deepEqual(await manager.commit(session), []);
      assert.deepEqual(store.calls, { ...store.calls, get: 1 });
      assert.equal(store.total(), 1);
    });

    it('writes a changed session with exactly one patch', async () => {
      const token = await createStored();
      store.reset();
      const session = await manager.load(header(token));
      session.set('name', 'ada');
      session.delete('n');
      assert.deepEqual(await manager.commit(session), []);
      assert.equal(store.calls.patch, 1);
      assert.equal(store.total(), 2);
      const again = await manager.load(header(token));
      assert.equal(again.get('name'), 'ada');
      assert.equal(again.has('n'), false);
    });

    it('throttles the expiry extension to one write per touch interval', async () => {
      const token = await createStored();
      store.reset();
      clock.advanceSeconds(60); // default interval: 180 s (idle 1800 / 10)
      await manager.commit(await manager.load(header(token)));
      assert.equal(store.calls.patch, 0);
      clock.advanceSeconds(150);
      await manager.commit(await manager.load(header(token)));
      assert.equal(store.calls.patch, 1);
      clock.advanceSeconds(10);
      await manager.commit(await manager.load(header(token)));
      assert.equal(store.calls.patch, 1);
    });
  });

  describe('tokens (SEC-1 to SEC-5)', () => {
    it('SEC-3: never adopts a well-formed token it did not issue', async () => {
      const attacker = randomToken();
      const session = await manager.load(header(attacker));
      assert.equal(session.isNew, true);
      session.set('n', 1);
      const issued = tokenFrom(await manager.commit(session));
      assert.notEqual(issued, attacker);
      assert.equal(await store.get(tokenKey(attacker)), null);
      assert.ok(events.some((e) => e.type === 'rejected' && e.reason === 'unknown'));
    });

    it('SEC-4: rejects malformed tokens before any store call', async () => {
      const bad = [
        'x'.repeat(10_000),
        'abc',
        `${randomToken().slice(0, 42)}B`, // non-canonical last character
        `${randomToken()}A`,
        "'; DROP TABLE sessions; --",
        '../../etc/passwd',
        'ä'.repeat(43),
        '%00'.repeat(15),
      ];
      for (const value of bad) {
        const session = await manager.load(`__Host-sid=${value}`);
        assert.equal(session.isNew, true);
      }
      assert.equal(store.total(), 0);
      assert.equal(
        events.filter((e) => e.type === 'rejected' && e.reason === 'malformed').length,
        bad.length,
      );
    });

    it('SEC-15: reads the session cookie across split Cookie headers', async () => {
      const token = await createStored();
      const session = await manager.load(['theme=dark', `__Host-sid=${token}`]);
      assert.equal(session.get('n'), 1);
    });

    it('SEC-15: authenticates with none of two distinct session cookies, clears it and reports it', async () => {
      const token = await createStored();
      for (const cookie of [
        `__Host-sid=${token}; __Host-sid=${randomToken()}`,
        `__Host-sid=${randomToken()}; __Host-sid=${token}`,
      ]) {
        store.reset();
        const session = await manager.load(cookie);
        assert.equal(session.isNew, true);
        assert.equal(store.total(), 0);
        const cookies = await manager.commit(session);
        assert.match(cookies[0] ?? '', /^__Host-sid=; Max-Age=0/);
      }
      assert.equal(events.filter((e) => e.reason === 'duplicate').length, 2);
    });

    it('treats a mis-cased prefix as a different cookie', async () => {
      const token = await createStored();
      const session = await manager.load(`__HOST-sid=${token}`);
      assert.equal(session.isNew, true);
    });

    it('exposes a public id that is the hash of the token, never the token', async () => {
      const token = await createStored();
      const session = await manager.load(header(token));
      assert.equal(session.id, tokenKey(token));
      assert.notEqual(session.id, token);
      assert.equal(JSON.stringify(session).includes(token), false);
    });
  });

  describe('lifetimes', () => {
    it('expires a session after the idle timeout (SEC-24)', async () => {
      const token = await createStored();
      clock.advanceSeconds(1800);
      const session = await manager.load(header(token));
      assert.equal(session.isNew, true);
      assert.ok(events.some((e) => e.type === 'rejected' && e.reason === 'expired-idle'));
      // Not cleared: a login answered in parallel may have set a new cookie already (issue 11, race 5).
      assert.deepEqual(await manager.commit(session), []);
    });

    it('keeps an active session alive past the idle timeout, following rotated tokens', async () => {
      let token = await createStored();
      for (let i = 0; i < 5; i++) {
        clock.advanceSeconds(1000);
        const session = await manager.load(header(token));
        assert.equal(session.get('n'), 1);
        const cookies = await manager.commit(session);
        if (cookies.length > 0) token = tokenFrom(cookies);
      }
    });

    it('expires a session after the absolute timeout however active (SEC-25)', async () => {
      setup({ idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 7200, rotateAfterSeconds: 0 });
      const token = await createStored();
      for (let i = 0; i < 3; i++) {
        clock.advanceSeconds(2000);
        await manager.commit(await manager.load(header(token)));
      }
      clock.advanceSeconds(1300); // 7300 s after creation
      const session = await manager.load(header(token));
      // The memory store already drops expired records; stores that keep them give 'expired-absolute'.
      assert.equal(session.isNew, true);
    });

    it('sends Max-Age only when asked, never beyond the absolute lifetime (SEC-12)', async () => {
      setup({ absoluteTimeoutSeconds: 600, cookie: { maxAge: 3600 } });
      const session = await manager.load(undefined);
      session.set('n', 1);
      const [cookie] = await manager.commit(session);
      assert.match(cookie ?? '', /; Max-Age=600;/);
    });
  });

  describe('writes', () => {
    it('rejects a value that cannot be stored at set(), naming the key', () => {
      return manager.load(undefined).then((session) => {
        assert.throws(() => session.set('x', (() => 1) as unknown as number), /key "x".*function/);
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        assert.throws(() => session.set('y', cyclic as unknown as number), /key "y".*cycle/);
        assert.throws(() => session.set('n', 10n as unknown as number), /key "n".*bigint/);
        assert.throws(() => session.set('n', new Date() as unknown as number), /key "n".*Date/);
        assert.throws(() => session.set('n', Number.NaN), /key "n"/);
      });
    });

    it('returns frozen values, so changes go through set()', async () => {
      const session = await manager.load(undefined);
      session.set('cart', ['a']);
      const cart = session.get('cart');
      assert.throws(() => (cart as string[]).push('b'), TypeError);
    });

    it('keeps both of two concurrent writes to different keys', async () => {
      const token = await createStored();
      const a = await manager.load(header(token));
      const b = await manager.load(header(token));
      a.set('x', 1);
      b.set('y', 2);
      await Promise.all([manager.commit(a), manager.commit(b)]);
      const session = await manager.load(header(token));
      assert.equal(session.get('x'), 1);
      assert.equal(session.get('y'), 2);
      assert.equal(session.get('n'), 1);
    });

    it('ends 100 concurrent update() increments at exactly 100', async () => {
      const token = await createStored();
      const sessions = await Promise.all(Array.from({ length: 100 }, () => manager.load(header(token))));
      const results = await Promise.all(sessions.map((s) => s.update('x', (n) => (n ?? 0) + 1)));
      assert.deepEqual(
        [...results].sort((p, q) => p - q),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      assert.equal((await manager.load(header(token))).get('x'), 100);
    });

    it('writes pending set() calls in the same operation as update()', async () => {
      const token = await createStored();
      const session = await manager.load(header(token));
      store.reset();
      session.set('name', 'ada');
      assert.equal(await session.update('n', (n) => (n ?? 0) + 1), 2);
      assert.equal(store.calls.patch, 1);
      assert.deepEqual(await manager.commit(session), []);
      assert.equal(store.calls.patch, 1);
      const again = await manager.load(header(token));
      assert.equal(again.get('name'), 'ada');
    });

    it('flashes a message to the next request only', async () => {
      const first = await manager.load(undefined);
      first.flash('notice', 'Added to cart');
      const token = tokenFrom(await manager.commit(first));
      const second = await manager.load(header(token));
      assert.equal(second.consumeFlash('notice'), 'Added to cart');
      await manager.commit(second);
      const third = await manager.load(header(token));
      assert.equal(third.consumeFlash('notice'), undefined);
    });
  });

  describe('regenerate, login, destroy (SEC-18 to SEC-20, SEC-50)', () => {
    it('SEC-18: regenerate() issues a new token, keeps the data and kills the old token', async () => {
      const token = await createStored();
      const session = await manager.load(header(token));
      await session.regenerate();
      // The old record is retired: no data left, only the link a revocation follows (never a load).
      const retired = await store.get(tokenKey(token));
      assert.deepEqual(retired?.data, {});
      assert.equal(retired?.meta.successor?.regenerated, true);
      assert.equal(retired?.meta.successor?.sealed, undefined);
      const fresh = tokenFrom(await manager.commit(session));
      assert.notEqual(fresh, token);
      assert.equal((await manager.load(header(token))).isNew, true);
      assert.equal((await manager.load(header(fresh))).get('n'), 1);
    });

    it('SEC-19: login() regenerates, records the user and the authentication time', async () => {
      const token = await createStored();
      const session = await manager.load(header(token));
      const csrf = session.csrfToken();
      await session.login('user-1');
      const fresh = tokenFrom(await manager.commit(session));
      assert.notEqual(fresh, token);
      const again = await manager.load(header(fresh));
      assert.equal(again.userId, 'user-1');
      assert.equal(again.authAgeSeconds(), 0);
      assert.notEqual(again.csrfToken(), csrf);
      clock.advanceSeconds(360);
      assert.equal(again.authAgeSeconds(), 360);
      assert.equal((await manager.load(header(token))).isNew, true);
    });

    it('SEC-20: destroy() deletes the record and clears the cookie; a replay is anonymous', async () => {
      const token = await createStored();
      const session = await manager.load(header(token));
      await session.destroy();
      assert.equal(await store.get(tokenKey(token)), null);
      const cookies = await manager.commit(session);
      assert.deepEqual(cookies, [
        '__Host-sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly; SameSite=Lax',
      ]);
      assert.equal((await manager.load(header(token))).isNew, true);
    });

    it('SEC-44: destroy() reports a store failure and the session stays as it was', async () => {
      const token = await createStored();
      const session = await manager.load(header(token));
      // A store that takes no writes: neither the compare-and-set that ends the record nor the delete.
      store.failing.add('patch');
      store.failing.add('destroy');
      await assert.rejects(session.destroy(), { code: 'ERR_SESSION_STORE' });
      store.failing.clear();
      assert.equal((await manager.load(header(token))).get('n'), 1);
    });

    it('SEC-44: destroy() whose delete fails rejects, and the session it killed first loads no more', async () => {
      const token = await createStored();
      const session = await manager.load(header(token));
      store.failing.add('destroy');
      await assert.rejects(session.destroy(), { code: 'ERR_SESSION_STORE' });
      store.failing.clear();
      assert.equal((await manager.load(header(token))).isNew, true);
    });

    it('SEC-50: a failure between the two steps of regenerate() leaves only the old token valid', async () => {
      const token = await createStored();
      const session = await manager.load(header(token));
      // The second step retires the old record with a compare-and-set patch.
      store.failing.add('patch');
      await assert.rejects(session.regenerate(), { code: 'ERR_SESSION_STORE' });
      store.failing.clear();
      assert.equal((await manager.load(header(token))).get('n'), 1);
      assert.equal(store.calls.set, 2); // the original and the regenerated copy, which was removed again
      const retry = await manager.load(header(token));
      await retry.regenerate();
      const fresh = tokenFrom(await manager.commit(retry));
      assert.equal((await manager.load(header(token))).isNew, true);
      assert.equal((await manager.load(header(fresh))).get('n'), 1);
    });
  });

  describe('rotation', () => {
    beforeEach(() => setup({ rotateAfterSeconds: 900, rotationGraceSeconds: 60, touchIntervalSeconds: 60 }));

    it('re-issues the token after rotateAfterSeconds and keeps the data', async () => {
      const token = await createStored();
      clock.advanceSeconds(901);
      const session = await manager.load(header(token));
      const rotated = tokenFrom(await manager.commit(session));
      assert.notEqual(rotated, token);
      assert.equal((await manager.load(header(rotated))).get('n'), 1);
      assert.equal((await manager.load(header(rotated))).rotations, 1);
    });

    it('resolves the old token to the same session inside the grace window, with the new cookie', async () => {
      const token = await createStored();
      clock.advanceSeconds(901);
      const rotated = tokenFrom(await manager.commit(await manager.load(header(token))));
      clock.advanceSeconds(30);
      const late = await manager.load(header(token));
      assert.equal(late.get('n'), 1);
      late.set('x', 7);
      assert.equal(tokenFrom(await manager.commit(late)), rotated);
      assert.equal((await manager.load(header(rotated))).get('x'), 7);
    });

    it('redirects a write that raced the rotation into the live session', async () => {
      const token = await createStored();
      clock.advanceSeconds(901);
      const slow = await manager.load(header(token));
      const fast = await manager.load(header(token));
      const rotated = tokenFrom(await manager.commit(fast));
      slow.set('x', 5);
      assert.equal(tokenFrom(await manager.commit(slow)), rotated);
      assert.equal((await manager.load(header(rotated))).get('x'), 5);
    });

    it('treats the old token as dead after the grace window and reports the reuse', async () => {
      const token = await createStored();
      clock.advanceSeconds(901);
      const rotated = tokenFrom(await manager.commit(await manager.load(header(token))));
      clock.advanceSeconds(61);
      const session = await manager.load(header(token));
      assert.equal(session.isNew, true);
      assert.ok(events.some((e) => e.type === 'reuse-detected'));
      assert.equal((await manager.load(header(rotated))).get('n'), 1);
    });

    it('destroys the session on reuse when revokeOnReuse is set', async () => {
      setup({ rotateAfterSeconds: 900, rotationGraceSeconds: 60, revokeOnReuse: true });
      const token = await createStored();
      clock.advanceSeconds(901);
      const rotated = tokenFrom(await manager.commit(await manager.load(header(token))));
      clock.advanceSeconds(61);
      await manager.load(header(token));
      assert.equal((await manager.load(header(rotated))).isNew, true);
    });
  });

  describe('failures (SEC-42, SEC-48)', () => {
    it('rejects the load with ERR_SESSION_STORE when the store read fails, never a fresh session', async () => {
      const token = await createStored();
      store.failing.add('get');
      await assert.rejects(manager.load(header(token)), (error: unknown) => {
        assert.ok(error instanceof SessionStoreError);
        assert.equal(error.status, 503);
        assert.equal(error.message.includes(token), false);
        return true;
      });
    });

    it('serves a fresh session that does not clear the cookie with onStoreError: "anonymous"', async () => {
      setup({ onStoreError: 'anonymous' });
      const token = await createStored();
      store.failing.add('get');
      const session = await manager.load(header(token));
      assert.equal(session.isNew, true);
      assert.deepEqual(await manager.commit(session), []);
    });

    it('fails a store call that outlasts storeTimeoutMs with ERR_SESSION_STORE and a store-error event', async () => {
      const token = await createStored();
      setup({ storeTimeoutMs: 20 });
      const hanging = store.get;
      store.get = () => new Promise(() => undefined);
      try {
        await assert.rejects(manager.load(header(token)), (error: unknown) => {
          assert.ok(error instanceof SessionStoreError);
          assert.match(error.message, /did not complete get within 20 ms/);
          return true;
        });
      } finally {
        store.get = hanging;
      }
      assert.ok(events.some((e) => e.type === 'store-error' && e.reason === 'get'));
      assert.equal((await manager.load(header(token))).get('n'), 1);
      assert.throws(() => createSessionManager({ store, storeTimeoutMs: -1 }), { option: 'storeTimeoutMs' });
    });

    it('rejects the commit with ERR_SESSION_STORE when the write fails', async () => {
      const token = await createStored();
      const session = await manager.load(header(token));
      session.set('x', 1);
      store.failing.add('patch');
      await assert.rejects(manager.commit(session), { code: 'ERR_SESSION_STORE' });
    });
  });

  describe('transport (SEC-17)', () => {
    it('sets no cookie on a plain-HTTP request unless a trusted proxy says HTTPS', async () => {
      const session = await manager.load(undefined, { protocol: 'http' });
      session.set('n', 1);
      assert.deepEqual(await manager.commit(session), []);
      assert.equal(store.total(), 0);
      assert.ok(events.some((e) => e.type === 'insecure-transport'));
      setup({ trustProxy: true });
      const proxied = await manager.load(undefined, { protocol: 'http', forwardedProto: 'https' });
      proxied.set('n', 1);
      assert.equal((await manager.commit(proxied)).length, 1);
    });
  });

  describe('per-user sessions', () => {
    it('lists and revokes a user’s sessions, never exposing tokens', async () => {
      const tokens: string[] = [];
      for (const agent of ['phone', 'laptop', 'tablet']) {
        const session = await manager.load(undefined, { protocol: 'https', userAgent: agent });
        await session.login('u1');
        session.set('n', 1);
        tokens.push(tokenFrom(await manager.commit(session)));
      }
      const current = await manager.load(header(tokens[0] ?? ''));
      const list = await manager.listUserSessions('u1', current);
      assert.equal(list.length, 3);
      assert.deepEqual(list.map((s) => s.userAgent).sort(), ['laptop', 'phone', 'tablet']);
      assert.equal(list.filter((s) => s.current).length, 1);
      assert.equal(JSON.stringify(list).includes(tokens[0] ?? '-'), false);
      const tablet = list.find((s) => s.userAgent === 'tablet');
      assert.ok(tablet);
      assert.equal(await manager.revokeSession('someone-else', tablet.id), false);
      assert.equal(await manager.revokeSession('u1', 'not-an-id'), false);
      assert.equal(await manager.revokeSession('u1', tablet.id), true);
      assert.equal((await manager.load(header(tokens[2] ?? ''))).isNew, true);
      assert.equal((await manager.listUserSessions('u1')).length, 2);
      assert.equal(await manager.revokeUserSessions('u1', { except: current }), 1);
      assert.equal((await manager.load(header(tokens[1] ?? ''))).isNew, true);
      assert.equal((await manager.load(header(tokens[0] ?? ''))).userId, 'u1');
    });
  });

  describe('detection (SEC-41) and session limits (SEC-22)', () => {
    it('raises one bruteforce event when a client sends 100 invalid tokens', async () => {
      for (let i = 0; i < 120; i++) {
        await manager.load(`__Host-sid=${i % 2 ? randomToken() : 'garbage'}`, {
          protocol: 'https',
          ip: '10.0.0.7',
        });
      }
      await manager.load(`__Host-sid=${randomToken()}`, { protocol: 'https', ip: '10.0.0.8' });
      const alarms = events.filter((e) => e.type === 'bruteforce');
      assert.equal(alarms.length, 1);
      assert.equal(alarms[0]?.detail?.ip, '10.0.0.7');
    });

    it('reports a user-agent change and, with onMismatch "destroy", ends the session', async () => {
      const request = { protocol: 'https' as const, userAgent: 'Firefox/140' };
      setup({ binding: { userAgent: true } });
      const first = await manager.load(undefined, request);
      first.set('n', 1);
      const token = tokenFrom(await manager.commit(first));
      const other = await manager.load(header(token), { ...request, userAgent: 'curl/8' });
      assert.equal(other.get('n'), 1);
      assert.equal(events.filter((e) => e.type === 'binding-mismatch').length, 1);
      setup({ binding: { userAgent: true, onMismatch: 'destroy' } });
      assert.equal((await manager.load(header(token), request)).get('n'), 1);
      assert.equal((await manager.load(header(token), { ...request, userAgent: 'curl/8' })).isNew, true);
      assert.equal((await manager.load(header(token), request)).isNew, true);
    });

    it('binds to the IPv4 /24 or IPv6 /64 of the client when asked', async () => {
      setup({ binding: { ipPrefix: true, onMismatch: 'destroy' } });
      const first = await manager.load(undefined, { protocol: 'https', ip: '::ffff:192.0.2.10' });
      first.set('n', 1);
      const token = tokenFrom(await manager.commit(first));
      assert.equal((await manager.load(header(token), { protocol: 'https', ip: '192.0.2.99' })).get('n'), 1);
      assert.equal((await manager.load(header(token), { protocol: 'https', ip: '192.0.3.10' })).isNew, true);
    });

    async function loginAs(user: string, agent: string): Promise<string> {
      clock.advanceSeconds(1);
      const session = await manager.load(undefined, { protocol: 'https', userAgent: agent });
      await session.login(user);
      return tokenFrom(await manager.commit(session));
    }

    it('evicts the least recently seen session when a login exceeds maxSessionsPerUser', async () => {
      setup({ maxSessionsPerUser: 2 });
      const oldest = await loginAs('u', 'a');
      const middle = await loginAs('u', 'b');
      const newest = await loginAs('u', 'c');
      assert.equal((await manager.load(header(oldest))).isNew, true);
      assert.equal((await manager.load(header(middle))).userId, 'u');
      assert.equal((await manager.load(header(newest))).userId, 'u');
      assert.equal((await manager.listUserSessions('u')).length, 2);
    });

    it('rejects a login beyond maxSessionsPerUser with sessionLimitPolicy "reject"', async () => {
      setup({ maxSessionsPerUser: 2, sessionLimitPolicy: 'reject' });
      await loginAs('u', 'a');
      await loginAs('u', 'b');
      await assert.rejects(loginAs('u', 'c'), { code: 'ERR_SESSION_LIMIT', status: 403 });
      assert.equal((await manager.listUserSessions('u')).length, 2);
    });
  });

  it('never puts a token in an event or error message', async () => {
    const token = await createStored();
    const session = await manager.load(header(token));
    await session.regenerate();
    const fresh = tokenFrom(await manager.commit(session));
    await manager.load(header(token));
    store.failing.add('get');
    const error = await manager.load(header(fresh)).catch((e: unknown) => e);
    const text = JSON.stringify(events) + String(error) + JSON.stringify(error);
    assert.ok(events.length > 3);
    assert.equal(text.includes(token), false);
    assert.equal(text.includes(fresh), false);
  });
});
