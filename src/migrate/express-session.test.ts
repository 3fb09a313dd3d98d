// The legacy sessions are written by a real express-session app (connect-redis, connect-pg-simple); then a
// sessionkit app serves the same clients, each with its own cookie jar.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import connectPgSimple from 'connect-pg-simple';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session, { type Store } from 'express-session';
import pg from 'pg';
import { createClient } from 'redis';
import { serviceSkip, services } from '../../tools/services.js';
import { sessionMiddleware } from '../adapters/express.js';
import { type Clock, systemClock } from '../core/clock.js';
import { randomString } from '../core/crypto.js';
import { DIAGNOSTICS_CHANNEL, type SessionEvent } from '../core/diagnostics.js';
import { createSessionManager, type StoreSessionManager } from '../core/manager.js';
import { createMemoryStore } from '../stores/memory.js';
import type { SessionStore } from '../stores/types.js';
import { fromExpressSession } from './express-session.js';

declare module 'express-session' {
  interface SessionData {
    cart: string[];
    passport: { user: string };
  }
}

const SECRETS = ['current-secret', 'old-secret'];

/** A browser's cookie jar: name → value, updated from Set-Cookie (Max-Age=0 deletes). */
class Jar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  from(other: Jar): this {
    for (const [name, value] of other.cookies) this.cookies.set(name, value);
    return this;
  }
  take(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = ''] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      if (/;\s*Max-Age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(pair.indexOf('=') + 1));
    }
  }
}

async function listen(app: express.Express): Promise<{ url: string; server: Server }> {
  const server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

async function request(url: string, jar: Jar): Promise<{ body: unknown; setCookies: string[] }> {
  const response = await fetch(url, { headers: { cookie: jar.header() } });
  const setCookies = response.headers.getSetCookie();
  jar.take(setCookies);
  return { body: await response.json(), setCookies };
}

/** The old app: express-session signs with SECRETS[signer] and writes the legacy session at /login. */
function legacyApp(store: Store, signer = 0) {
  const app = express();
  app.use(session({ store, secret: SECRETS[signer] ?? '', resave: false, saveUninitialized: false }));
  app.get('/login', (req, res) => {
    req.session.passport = { user: 'ada' };
    req.session.cart = ['book'];
    res.json({ ok: true });
  });
  return app;
}

/** The new app: sessionkit with the express-session migration over the same legacy store. */
function newApp(manager: StoreSessionManager<Record<string, unknown>>) {
  const app = express();
  const sessions = sessionMiddleware(manager);
  app.use(sessions);
  app.get('/whoami', (req, res) => {
    const s = sessions.of(req);
    res.json({ userId: s.userId ?? null, cart: s.get('cart') ?? null });
  });
  return app;
}

function managerFor(store: SessionStore, legacyStore: Store, clock: Clock = systemClock) {
  return createSessionManager({
    store,
    clock,
    insecureDevCookies: true,
    migrate: fromExpressSession({ secrets: SECRETS, store: legacyStore }),
  });
}

const isEvent = (value: unknown): value is SessionEvent =>
  typeof value === 'object' && value !== null && 'type' in value;

const events = (): { list: SessionEvent[]; stop: () => void } => {
  const list: SessionEvent[] = [];
  const listener = (event: unknown) => {
    if (isEvent(event)) list.push(event);
  };
  subscribe(DIAGNOSTICS_CHANNEL, listener);
  return { list, stop: () => unsubscribe(DIAGNOSTICS_CHANNEL, listener) };
};

/** The legacy store, counting its reads. */
function counted(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const get = store.get.bind(store);
  store.get = (sid, callback) => {
    reads++;
    get(sid, callback);
  };
  return { store, reads: () => reads };
}

function describeMigration(
  name: string,
  open: () => Promise<{ store: Store; close: () => Promise<unknown> }>,
) {
  describe(`from express-session + ${name}`, () => {
    let legacy: { store: Store; close: () => Promise<unknown> };
    const servers: Server[] = [];
    before(async () => {
      legacy = await open();
    });
    after(async () => {
      for (const server of servers) server.close();
      await legacy.close();
    });
    const serve = async (app: express.Express) => {
      const { url, server } = await listen(app);
      servers.push(server);
      return url;
    };

    /** A client logged in by the old app (signed by SECRETS[signer]). */
    const loggedInClient = async (signer = 0): Promise<{ jar: Jar; sid: string }> => {
      const jar = new Jar();
      await request(`${await serve(legacyApp(legacy.store, signer))}/login`, jar);
      const raw = decodeURIComponent(jar.cookies.get('connect.sid') ?? '');
      assert.match(raw, /^s:/);
      return { jar, sid: raw.slice(2, raw.lastIndexOf('.')) };
    };
    const legacyRecord = (sid: string) =>
      new Promise((resolve, reject) => legacy.store.get(sid, (e, s) => (e ? reject(e) : resolve(s ?? null))));

    it('keeps the user logged in with their data; the legacy record is destroyed and its cookie cleared', async () => {
      const { jar, sid } = await loggedInClient();
      const store = createMemoryStore();
      const manager = managerFor(store, legacy.store);
      const url = await serve(newApp(manager));
      const first = await request(`${url}/whoami`, jar);
      assert.deepEqual(first.body, { userId: 'ada', cart: ['book'] });
      assert.ok(first.setCookies.some((c) => c.startsWith('connect.sid=; Max-Age=0') && /Path=\//.test(c)));
      assert.equal(jar.cookies.has('connect.sid'), false);
      assert.equal(await legacyRecord(sid), null);
      // The next request carries only the sessionkit cookie.
      assert.deepEqual((await request(`${url}/whoami`, jar)).body, { userId: 'ada', cart: ['book'] });
      assert.equal((await manager.listUserSessions('ada')).length, 1);
    });

    it('accepts a cookie signed with an older secret (secrets are tried in turn)', async () => {
      const { jar } = await loggedInClient(1);
      const url = await serve(newApp(managerFor(createMemoryStore(), legacy.store)));
      assert.deepEqual((await request(`${url}/whoami`, jar)).body, { userId: 'ada', cart: ['book'] });
    });

    it('ignores an unsigned or forged legacy cookie with an event, without reading the legacy store', async () => {
      const { sid } = await loggedInClient();
      const { store: countedStore, reads } = counted(legacy.store);
      const url = await serve(newApp(managerFor(createMemoryStore(), countedStore)));
      const seen = events();
      try {
        for (const [value, reason] of [
          [sid, 'legacy-unsigned'],
          [`s:${sid}.${'A'.repeat(43)}`, 'legacy-forged'],
          [encodeURIComponent(`s:${sid}`), 'legacy-unsigned'],
        ]) {
          const jar = new Jar();
          jar.cookies.set('connect.sid', value ?? '');
          const response = await request(`${url}/whoami`, jar);
          assert.deepEqual(response.body, { userId: null, cart: null });
          assert.deepEqual(response.setCookies, []);
          assert.ok(
            seen.list.some((e) => e.type === 'rejected' && e.reason === reason),
            reason,
          );
        }
        assert.equal(reads(), 0);
        assert.ok(await legacyRecord(sid), 'the legacy session is untouched');
      } finally {
        seen.stop();
      }
    });

    it('never reopens a migrated session once revoked, even when the legacy record outlived it', async () => {
      const { jar } = await loggedInClient();
      const legacyOnly = new Jar();
      legacyOnly.take([`connect.sid=${jar.cookies.get('connect.sid') ?? ''}`]);
      let now = Date.now();
      const clock = { now: () => now };
      const manager = managerFor(createMemoryStore({ clock }), legacy.store, clock);
      const url = await serve(newApp(manager));
      const destroy = legacy.store.destroy;
      // The legacy store cannot destroy: the legacy record outlives the migration.
      legacy.store.destroy = (_sid, callback) => callback?.(new Error('legacy store down'));
      try {
        assert.deepEqual((await request(`${url}/whoami`, jar)).body, { userId: 'ada', cart: ['book'] });
        assert.equal(await manager.revokeUserSessions('ada'), 1);
        const anonymous = { userId: null, cart: null };
        assert.deepEqual((await request(`${url}/whoami`, new Jar().from(legacyOnly))).body, anonymous);
        now += 3600_000; // long past the claim's grace window
        assert.deepEqual((await request(`${url}/whoami`, new Jar().from(legacyOnly))).body, anonymous);
        assert.equal((await manager.listUserSessions('ada')).length, 0);
      } finally {
        legacy.store.destroy = destroy;
      }
    });

    it('makes one sessionkit session of concurrent first requests, in one process and across two', async () => {
      const { jar } = await loggedInClient();
      const store = createMemoryStore();
      // Two managers on one store stand for two processes: each has its own single-flight map.
      const urls = [
        await serve(newApp(managerFor(store, legacy.store))),
        await serve(newApp(managerFor(store, legacy.store))),
      ];
      const header = jar.header();
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) => fetch(`${urls[i % 2]}/whoami`, { headers: { cookie: header } })),
      );
      const tokens = new Set<string>();
      for (const response of responses) {
        assert.deepEqual(await response.json(), { userId: 'ada', cart: ['book'] });
        for (const c of response.headers.getSetCookie())
          if (c.startsWith('sid=')) tokens.add(c.split(';')[0] ?? '');
      }
      assert.equal(tokens.size, 1, 'every response names the same session');
      const manager = managerFor(store, legacy.store);
      assert.equal((await manager.listUserSessions('ada')).length, 1);
    });
  });
}

const redisSkip = await serviceSkip('Redis', services.redis.port, services.redis.host);
const pgSkip = await serviceSkip('PostgreSQL', services.postgres.port, services.postgres.host);

describe('fromExpressSession', () => {
  if (!redisSkip) {
    describeMigration('connect-redis', async () => {
      const client = createClient({ url: `redis://${services.redis.host}:${services.redis.port}` });
      await client.connect();
      return {
        store: new RedisStore({ client, prefix: `sk-test-legacy:${randomString(6)}:` }),
        close: () => client.quit(),
      };
    });
  }
  if (!pgSkip) {
    describeMigration('connect-pg-simple', async () => {
      const pool = new pg.Pool({ ...services.postgres, max: 4 });
      const tableName = `sk_legacy_${randomString(6)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, '_')}`;
      const PgStore = connectPgSimple(session);
      // connect-pg-simple's own table.sql names its key "session_pkey", which collides with any other
      // table created by it in the shared database: the same table, with a key named after the table.
      await pool.query(
        `CREATE TABLE ${tableName} (sid varchar PRIMARY KEY, sess json NOT NULL, expire timestamp(6) NOT NULL)`,
      );
      const store = new PgStore({ pool, tableName });
      return {
        store,
        close: async () => {
          await pool.query(`DROP TABLE IF EXISTS ${tableName}`);
          await pool.end();
        },
      };
    });
  }
});
