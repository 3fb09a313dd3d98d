/**
 * Prototype-safe session keys: names that reach `Object.prototype` are refused, reads see own data
 * only, and a record decoded from a store or a sealed cookie that holds such names has no effect on
 * any prototype. Runs on both managers.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createCookieSessionManager } from '../cookie-session.js';
import { createMemoryStore } from '../stores/memory.js';
import { createSqliteStore } from '../stores/sqlite.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { createSessionManager } from './manager.js';
import { createKeyring, encodeSession, sealValue } from './sealed.js';
import type { SessionManager, UntypedSessionData } from './types.js';

const SECRET = 'keys-test-Qe1WkZq8mX2rB7nL5pD4sF6hJ0aG9uK3iO8tT3v0c9y';
const NAME = '__Host-sid';
/** Every name that reaches Object.prototype (its own members, `__proto__` among them) and `prototype`. */
const UNSAFE = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];
/** A record's data as a tampered store row or a crafted seal holds it: own `__proto__` keys, top and nested. */
const CRAFTED =
  '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":true}},"toString":"x",' +
  '"n":1,"nested":{"__proto__":{"isAdmin":true},"ok":true}}';

/** Fails when anything reached `Object.prototype`. */
function assertPrototypeClean(): void {
  const probe: Record<string, unknown> = {};
  assert.equal(probe.isAdmin, undefined);
  assert.equal(probe.polluted, undefined);
  assert.deepEqual(Object.keys(Object.prototype), []);
  assert.equal(Object.getPrototypeOf(Object.prototype), null);
}

/** The token (or sealed value) in a session `Set-Cookie` line. */
function cookieOf(setCookies: string[]): string {
  const line = setCookies.find((c) => c.startsWith(`${NAME}=`) && !c.includes('Max-Age=0'));
  assert.ok(line, `a session cookie in ${JSON.stringify(setCookies)}`);
  return `${NAME}=${line.slice(NAME.length + 1).split(';')[0]}`;
}

const managers: Array<[string, () => SessionManager<UntypedSessionData>]> = [
  ['store-backed (memory store)', () => createSessionManager({ store: createMemoryStore() })],
  ['cookie-only', () => createCookieSessionManager({ secrets: [SECRET] })],
];

for (const [label, create] of managers) {
  describe(`session keys, ${label}`, () => {
    afterEach(assertPrototypeClean);

    /** A stored session holding `n = 1` and its Cookie header. */
    async function stored(manager: SessionManager<UntypedSessionData>): Promise<string> {
      const session = await manager.load(undefined);
      session.set('n', 1);
      return cookieOf(await manager.commit(session));
    }

    it('refuses every name that reaches Object.prototype at set(), update() and flash(), naming the key', async () => {
      const manager = create();
      const session = await manager.load(await stored(manager));
      for (const key of UNSAFE) {
        const named = { code: 'ERR_SESSION_VALUE', key };
        assert.throws(() => session.set(key, { polluted: true }), named);
        let called = false;
        await assert.rejects(
          session.update(key, () => {
            called = true;
            return 1;
          }),
          named,
        );
        assert.equal(called, false, `update("${key}") ran its callback`);
        assert.throws(() => session.flash(key, 1), named);
        assert.equal(session.get(key), undefined, `get("${key}") saw an inherited member`);
        assert.equal(session.has(key), false);
      }
      assert.deepEqual(session.keys(), ['n']);
    });

    it('hands update() callbacks own values only, and a callback mutating its argument pollutes nothing', async () => {
      const manager = create();
      const header = await stored(manager);
      const session = await manager.load(header);
      const seen: unknown[] = [];
      await session.update('absent', (current) => {
        seen.push(current);
        return 1;
      });
      await assert.rejects(
        session.update('__proto__', (current) => {
          if (typeof current === 'object' && current !== null) Reflect.set(current, 'polluted', true);
          return 1;
        }),
        { code: 'ERR_SESSION_VALUE' },
      );
      await assert.rejects(
        session.update('constructor', (current) => {
          if (typeof current === 'function') Reflect.set(current.prototype, 'polluted', true);
          return 1;
        }),
        { code: 'ERR_SESSION_VALUE' },
      );
      assert.deepEqual(seen, [undefined]);
      // The store-backed update is already written (no new cookie); the cookie-only one is sealed now.
      const cookies = await manager.commit(session);
      const written = await manager.load(cookies.length === 0 ? header : cookieOf(cookies));
      assert.equal(written.get('absent'), 1);
    });
  });
}

/** Checks a session loaded from a crafted record: own, safe data only, nothing reaches a prototype. */
function assertCraftedIsHarmless(session: {
  get(key: string): unknown;
  keys(): string[];
  has(key: string): boolean;
}): void {
  assert.deepEqual(session.keys().sort(), ['n', 'nested']);
  assert.equal(session.get('__proto__'), undefined);
  assert.equal(session.get('constructor'), undefined);
  assert.equal(session.get('toString'), undefined);
  assert.equal(session.get('isAdmin'), undefined);
  const nested = session.get('nested');
  assert.ok(typeof nested === 'object' && nested !== null);
  assert.equal(Object.hasOwn(nested, '__proto__'), false);
  // The copy a handler makes by assignment keeps Object.prototype as its prototype.
  const copy = Object.assign({}, nested);
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  assert.equal(Reflect.get(copy, 'isAdmin'), undefined);
  assert.deepEqual(copy, { ok: true });
  assertPrototypeClean();
}

describe('records decoded with names that reach Object.prototype', () => {
  afterEach(assertPrototypeClean);

  it('a SQLite row whose data holds __proto__ and constructor keys loads as its safe keys only, and a full write drops them', async () => {
    const db = new Database(':memory:');
    const clock = createFakeClock();
    const store = createSqliteStore(db, { pruneIntervalSeconds: 0, clock });
    const manager = createSessionManager({ store, clock });
    try {
      const first = await manager.load(undefined);
      first.set('n', 0);
      const header = cookieOf(await manager.commit(first));
      db.prepare('UPDATE sessions SET data = ?').run(CRAFTED);
      const session = await manager.load(header);
      assertCraftedIsHarmless(session);
      assert.equal(await session.update('n', (n) => (typeof n === 'number' ? n + 1 : 0)), 2);
      // regenerate writes the whole record under a new key: the unsafe names are not carried over.
      await session.regenerate();
      const next = await manager.load(cookieOf(await manager.commit(session)));
      assert.equal(next.get('n'), 2);
      // The old row is kept as a retired alias (no session, only the link a revocation follows).
      const rows = db
        .prepare("SELECT data FROM sessions WHERE json_extract(meta, '$.successor') IS NULL")
        .all();
      const texts = rows.map((row) =>
        typeof row === 'object' && row !== null ? Reflect.get(row, 'data') : null,
      );
      assert.equal(texts.length, 1);
      assert.equal(texts[0], '{"n":2,"nested":{"ok":true}}');
    } finally {
      await manager.close();
      db.close();
    }
  });

  it('a sealed cookie whose data holds __proto__ and constructor keys opens as its safe keys only', async () => {
    const clock = createFakeClock();
    const manager = createCookieSessionManager({ secrets: [SECRET], clock });
    const keyring = createKeyring([SECRET], { cookieName: NAME, purpose: 'session' });
    const now = clock.now();
    const data: unknown = JSON.parse(CRAFTED);
    assert.ok(typeof data === 'object' && data !== null && !Array.isArray(data));
    const plaintext = encodeSession({
      sid: 'crafted-session-id-0000',
      createdAt: now,
      lastSeenAt: now,
      absoluteExpiresAt: now + 3_600_000,
      version: 1,
      data: { ...data },
    });
    assert.match(plaintext.toString(), /"__proto__":\{"isAdmin":true\}/);
    const session = await manager.load(`${NAME}=${sealValue(keyring, plaintext)}`);
    assert.equal(session.isNew, false);
    assertCraftedIsHarmless(session);
    session.set('m', 1);
    const resealed = await manager.load(cookieOf(await manager.commit(session)));
    assert.deepEqual(resealed.keys().sort(), ['m', 'n', 'nested']);
  });
});
