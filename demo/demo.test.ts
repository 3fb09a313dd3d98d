import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type MemcachedServer, serviceSkip, services, startMemcached } from '../tools/services.js';
import { type DemoServer, startDemoServer } from './server.js';
import { asCart, errorOf, isRecord, ShopClient, spawnDemo } from './test-support.js';

const pgUrl = `postgres://${services.postgres.user}@${services.postgres.host}:${services.postgres.port}/${services.postgres.database}`;
const redisUrl = `redis://${services.redis.host}:${services.redis.port}`;
const pgSkip = await serviceSkip('PostgreSQL', services.postgres.port, services.postgres.host);
const redisSkip = await serviceSkip('Redis', services.redis.port, services.redis.host);

/** A token of the right shape (43 base64url characters) that no server issued. */
const FOREIGN_TOKEN = `${'A'.repeat(42)}E`;

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sessionkit-demo-'));
}

async function start(env: Record<string, string>): Promise<{ server: DemoServer; client: () => ShopClient }> {
  const server = await startDemoServer({ PORT: '0', HOST: '127.0.0.1', ...env });
  return { server, client: () => new ShopClient(`http://127.0.0.1:${server.port}`) };
}

/** Adds to the cart, reads it back, and reports what the session list answers. */
async function shopOnce(
  client: ShopClient,
): Promise<{ store: string; count: number; sessionsStatus: number }> {
  const me = await client.me();
  await client.add('mug', 2);
  await client.add('mug', 1);
  const cart = await client.cart();
  assert.deepEqual(cart.items, [{ sku: 'mug', qty: 3 }]);
  await client.login('carol');
  assert.equal((await client.me()).user, 'carol');
  const sessions = await client.call('GET', '/api/sessions');
  return { store: me.store, count: (await client.cart()).count, sessionsStatus: sessions.status };
}

describe('demo shop API (SQLite, in process)', () => {
  let dataDir: string;
  let server: DemoServer;
  let visitor: () => ShopClient;

  before(async () => {
    dataDir = await tempDir();
    ({ server, client: visitor } = await start({ DATA_DIR: dataDir }));
  });
  after(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('GET /api/products', () => {
    it('lists a dozen products with their SKU, name and price in cents', async () => {
      const response = await visitor().call('GET', '/api/products');
      assert.equal(response.status, 200);
      assert.ok(Array.isArray(response.body));
      assert.equal(response.body.length, 12);
      for (const product of response.body) {
        assert.ok(isRecord(product));
        assert.deepEqual(Object.keys(product), ['sku', 'name', 'price']);
        assert.ok(Number.isInteger(product.price) && Number(product.price) > 0);
      }
      assert.equal(response.setCookies.length, 0, 'the catalog needs no session');
    });
  });

  describe('GET /api/me', () => {
    it('gives a new visitor an anonymous session, a CSRF token and a plain-HTTP dev cookie', async () => {
      const client = visitor();
      const response = await client.call('GET', '/api/me');
      assert.equal(response.status, 200);
      const [cookie] = response.setCookies;
      assert.match(cookie ?? '', /^sid=[A-Za-z0-9_-]{43}; /);
      assert.match(cookie ?? '', /; HttpOnly/i);
      assert.match(cookie ?? '', /; SameSite=Lax/i);
      assert.doesNotMatch(cookie ?? '', /; Secure/i);
      const me = await client.me();
      assert.equal(me.user, null);
      assert.equal(me.store, 'sqlite');
      assert.match(me.sessionId, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(me.sessionId, client.cookie, 'the public id is not the token');
      assert.ok(me.csrfToken.length >= 32);
    });
  });

  describe('cart API', () => {
    it('starts empty and adds items, merging quantities of one SKU', async () => {
      const client = visitor();
      await client.me();
      assert.deepEqual(await client.cart(), { items: [], count: 0 });
      await client.add('sencha', 2);
      await client.add('mug', 1);
      const cart = await client.add('sencha', 3);
      assert.deepEqual(cart, {
        items: [
          { sku: 'sencha', qty: 5 },
          { sku: 'mug', qty: 1 },
        ],
        count: 6,
      });
      assert.deepEqual(await client.cart(), cart);
    });

    it('sets a quantity with PUT and removes a line with DELETE', async () => {
      const client = visitor();
      await client.me();
      await client.add('honey', 1);
      await client.add('tote', 1);
      const put = await client.call('PUT', '/api/cart/items/honey', { json: { qty: 7 } });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(asCart(put.body).items, [
        { sku: 'honey', qty: 7 },
        { sku: 'tote', qty: 1 },
      ]);
      const removed = await client.call('DELETE', '/api/cart/items/honey');
      assert.equal(removed.status, 200, removed.text);
      assert.deepEqual(asCart(removed.body), { items: [{ sku: 'tote', qty: 1 }], count: 1 });
      assert.deepEqual(await client.cart(), { items: [{ sku: 'tote', qty: 1 }], count: 1 });
    });

    it('answers 404 when removing a product that is not in the cart', async () => {
      const client = visitor();
      await client.me();
      const response = await client.call('DELETE', '/api/cart/items/kettle');
      assert.equal(response.status, 404);
      assert.match(errorOf(response), /Gooseneck kettle is not in your cart/);
    });

    it('answers 400 naming the SKU for an unknown product on every cart route', async () => {
      const client = visitor();
      await client.me();
      const post = await client.call('POST', '/api/cart/items', { json: { sku: 'unicorn', qty: 1 } });
      const put = await client.call('PUT', '/api/cart/items/unicorn', { json: { qty: 1 } });
      const del = await client.call('DELETE', '/api/cart/items/unicorn');
      const missing = await client.call('POST', '/api/cart/items', { json: { qty: 1 } });
      for (const response of [post, put, del]) {
        assert.equal(response.status, 400);
        assert.match(errorOf(response), /unknown SKU "unicorn"/);
      }
      assert.equal(missing.status, 400);
      assert.match(errorOf(missing), /"sku" must be a product SKU/);
      assert.deepEqual(await client.cart(), { items: [], count: 0 });
    });

    it('answers 400 to a quantity that is not a whole number from 1 to 99', async () => {
      const client = visitor();
      await client.me();
      const bad: unknown[] = [0, -1, 1.5, '2', 100, null, true];
      for (const qty of bad) {
        const response = await client.call('POST', '/api/cart/items', { json: { sku: 'mug', qty } });
        assert.equal(response.status, 400, `qty ${JSON.stringify(qty)}`);
        assert.match(errorOf(response), /"qty" must be a whole number from 1 to 99/);
      }
      const absent = await client.call('POST', '/api/cart/items', { json: { sku: 'mug' } });
      assert.equal(absent.status, 400);
      assert.match(errorOf(absent), /got nothing/);
      const put = await client.call('PUT', '/api/cart/items/mug', { json: { qty: 0 } });
      assert.equal(put.status, 400);
      assert.deepEqual(await client.cart(), { items: [], count: 0 });
    });

    it('answers 400 when a line would exceed 99 items and leaves the cart as it was', async () => {
      const client = visitor();
      await client.me();
      await client.add('fountain-pen', 98);
      const over = await client.call('POST', '/api/cart/items', { json: { sku: 'fountain-pen', qty: 2 } });
      assert.equal(over.status, 400);
      assert.match(
        errorOf(over),
        /your cart holds 98 × Fountain pen and at most 99 of one product fit: 2 more cannot be added/,
      );
      assert.deepEqual((await client.cart()).items, [{ sku: 'fountain-pen', qty: 98 }]);
      const page = await client.call('GET', '/cart');
      assert.doesNotMatch(page.text, /Added 2 × Fountain pen/, 'no "Added" flash for a refused add');
    });

    it('answers 400 to malformed JSON and to bodies that are not JSON objects', async () => {
      const client = visitor();
      await client.me();
      const malformed = await client.call('POST', '/api/cart/items', { raw: '{"sku": "mug", "qty": 1' });
      assert.equal(malformed.status, 400);
      assert.equal(errorOf(malformed), 'malformed JSON in the request body');
      const array = await client.call('POST', '/api/cart/items', { json: [{ sku: 'mug', qty: 1 }] });
      assert.equal(array.status, 400);
      assert.match(errorOf(array), /must be a JSON object/);
      const none = await client.call('POST', '/api/cart/items');
      assert.equal(none.status, 400);
      assert.match(errorOf(none), /must be a JSON object sent with Content-Type: application\/json/);
    });

    it('keeps every one of 20 parallel adds (atomic session.update)', async () => {
      const client = visitor();
      await client.me();
      await client.add('coffee', 1);
      const adds = Array.from({ length: 20 }, (_, i) =>
        client.call('POST', '/api/cart/items', { json: { sku: i % 2 === 0 ? 'sencha' : 'mug', qty: 1 } }),
      );
      const responses = await Promise.all(adds);
      assert.deepEqual(
        responses.map((response) => response.status),
        Array(20).fill(200),
      );
      assert.deepEqual(await client.cart(), {
        items: [
          { sku: 'coffee', qty: 1 },
          { sku: 'sencha', qty: 10 },
          { sku: 'mug', qty: 10 },
        ],
        count: 21,
      });
    });
  });

  describe('CSRF protection', () => {
    it('answers 403 to every mutating route without the x-csrf-token header, changing nothing', async () => {
      const client = visitor();
      await client.me();
      await client.add('mug', 1);
      const attempts = [
        client.call('POST', '/api/cart/items', { json: { sku: 'mug', qty: 1 }, csrf: null }),
        client.call('PUT', '/api/cart/items/mug', { json: { qty: 5 }, csrf: null }),
        client.call('DELETE', '/api/cart/items/mug', { csrf: null }),
        client.call('POST', '/api/login', { json: { username: 'mallory' }, csrf: null }),
        client.call('POST', '/api/logout', { csrf: null }),
        client.call('DELETE', `/api/sessions/${FOREIGN_TOKEN}`, { csrf: null }),
        client.call('POST', '/api/cart/items', { raw: 'not json', csrf: null }),
      ];
      for (const response of await Promise.all(attempts)) {
        assert.equal(response.status, 403);
        assert.match(errorOf(response), /CSRF token/);
      }
      assert.deepEqual(await client.cart(), { items: [{ sku: 'mug', qty: 1 }], count: 1 });
      assert.equal((await client.me()).user, null);
    });

    it("answers 403 to a wrong token and to another session's token", async () => {
      const client = visitor();
      const other = visitor();
      await client.me();
      const othersToken = (await other.me()).csrfToken;
      const wrong = await client.call('POST', '/api/cart/items', { json: { sku: 'mug', qty: 1 }, csrf: 'x' });
      const foreign = await client.call('POST', '/api/cart/items', {
        json: { sku: 'mug', qty: 1 },
        csrf: othersToken,
      });
      assert.equal(wrong.status, 403);
      assert.equal(foreign.status, 403);
    });
  });

  describe('POST /api/login and /api/logout', () => {
    it('changes the session cookie on login; the old cookie is then anonymous', async () => {
      const client = visitor();
      const before = await client.me();
      await client.add('teapot', 1);
      const oldCookie = client.cookie;
      const after = await client.login('alice');
      assert.equal(after.user, 'alice');
      assert.ok(oldCookie !== undefined && client.cookie !== undefined);
      assert.notEqual(client.cookie, oldCookie);
      assert.notEqual(after.sessionId, before.sessionId);
      assert.notEqual(after.csrfToken, before.csrfToken);
      assert.deepEqual((await client.cart()).items, [{ sku: 'teapot', qty: 1 }], 'the cart survives login');

      const replay = new ShopClient(client.base, oldCookie);
      const replayed = await replay.me();
      assert.equal(replayed.user, null);
      assert.notEqual(replayed.sessionId, after.sessionId);
      assert.deepEqual((await replay.cart()).items, []);
      const stale = await client.call('POST', '/api/cart/items', {
        json: { sku: 'mug', qty: 1 },
        csrf: before.csrfToken,
      });
      assert.equal(stale.status, 403, 'the CSRF token from before login is dead');
    });

    it('answers 400 to a missing or malformed username', async () => {
      const client = visitor();
      await client.me();
      const bodies: unknown[] = [
        {},
        { username: '' },
        { username: 'a b' },
        { username: 'x'.repeat(33) },
        { username: 7 },
      ];
      for (const json of bodies) {
        const response = await client.call('POST', '/api/login', { json });
        assert.equal(response.status, 400, JSON.stringify(json));
        assert.match(errorOf(response), /"username" must be 1 to 32 letters/);
      }
      assert.equal((await client.me()).user, null);
    });

    it('destroys the session on logout, clearing the cookie', async () => {
      const client = visitor();
      await client.me();
      await client.login('dave');
      await client.add('mug', 1);
      const cookie = client.cookie;
      const response = await client.call('POST', '/api/logout');
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, { user: null });
      assert.equal(client.cookie, undefined, 'the response clears the cookie');
      const replay = new ShopClient(client.base, cookie);
      assert.equal((await replay.me()).user, null);
      assert.deepEqual((await replay.cart()).items, []);
    });
  });

  describe('GET and DELETE /api/sessions', () => {
    it('answers 401 to an anonymous visitor', async () => {
      const client = visitor();
      await client.me();
      const list = await client.call('GET', '/api/sessions');
      const revoke = await client.call('DELETE', `/api/sessions/${FOREIGN_TOKEN}`);
      assert.equal(list.status, 401);
      assert.equal(revoke.status, 401);
      assert.match(errorOf(list), /log in first/);
    });

    it('lists every device of the user, marks the current one, and revokes another device', async () => {
      const laptop = visitor();
      const phone = visitor();
      await laptop.me();
      await phone.me();
      const onLaptop = await laptop.login('erin');
      const onPhone = await phone.login('erin');
      const list = await laptop.call('GET', '/api/sessions');
      assert.equal(list.status, 200, list.text);
      assert.ok(Array.isArray(list.body));
      const ids = list.body.map((entry: unknown) => (isRecord(entry) ? [entry.id, entry.current] : []));
      assert.deepEqual(
        ids.sort(),
        [
          [onLaptop.sessionId, true],
          [onPhone.sessionId, false],
        ].sort(),
      );
      for (const entry of list.body) {
        assert.ok(isRecord(entry));
        assert.equal(typeof entry.createdAt, 'number');
        assert.equal(typeof entry.lastSeenAt, 'number');
        assert.equal(JSON.stringify(entry).includes(String(laptop.cookie)), false, 'no token in the list');
      }

      const revoked = await laptop.call('DELETE', `/api/sessions/${onPhone.sessionId}`);
      assert.equal(revoked.status, 200, revoked.text);
      assert.deepEqual(revoked.body, { revoked: onPhone.sessionId, current: false });
      assert.equal((await phone.me()).user, null, 'the revoked device is logged out');
      assert.equal((await laptop.me()).user, 'erin', 'the revoking device is not');
      const after = await laptop.call('GET', '/api/sessions');
      assert.ok(Array.isArray(after.body));
      assert.equal(after.body.length, 1);
    });

    it("answers 404 to an id that is not one of the user's sessions", async () => {
      const frank = visitor();
      const grace = visitor();
      await frank.me();
      await grace.me();
      await frank.login('frank');
      const graces = await grace.login('grace');
      const unknown = await frank.call('DELETE', `/api/sessions/${FOREIGN_TOKEN}`);
      const others = await frank.call('DELETE', `/api/sessions/${graces.sessionId}`);
      assert.equal(unknown.status, 404);
      assert.equal(others.status, 404);
      assert.match(errorOf(others), /none of your sessions has this id/);
      assert.equal((await grace.me()).user, 'grace');
    });
  });

  describe('pages', () => {
    it('renders the catalog with every product, a CSRF token and the session panel', async () => {
      const client = visitor();
      const page = await client.call('GET', '/');
      assert.equal(page.status, 200);
      assert.equal((page.text.match(/<article class="card"/g) ?? []).length, 12);
      assert.match(page.text, /<meta name="csrf-token" content="[A-Za-z0-9_-]{43}">/);
      assert.match(page.text, /About this session/);
      assert.match(page.text, /sqlite \(/);
      assert.match(page.text, /without <code>Secure<\/code>/);
      assert.ok(client.cookie !== undefined, 'the first page view starts a session');
      const me = await client.me();
      assert.ok(page.text.includes(me.sessionId), 'the panel shows the public id');
      assert.ok(!page.text.includes(client.cookie), 'never the token');
    });

    it('shows a flash message once, on the page after the action', async () => {
      const client = visitor();
      await client.me();
      await client.add('shortbread', 2);
      const first = await client.call('GET', '/cart');
      const second = await client.call('GET', '/cart');
      assert.match(first.text, /Added 2 × Shortbread biscuits to your cart\./);
      assert.doesNotMatch(second.text, /Added 2 × Shortbread/);
    });

    it('renders the cart with subtotals, the item count and the total', async () => {
      const client = visitor();
      await client.me();
      await client.add('mug', 2);
      await client.add('sencha', 1);
      const page = await client.call('GET', '/cart');
      assert.match(page.text, /<span id="item-count">3<\/span> items/);
      assert.match(page.text, /id="cart-total"[^>]*>€36\.50</);
      assert.match(page.text, /€28\.00/);
    });

    it('renders the sessions page for a logged-in user with a revoke button for other devices', async () => {
      const one = visitor();
      const two = visitor();
      await one.me();
      await two.me();
      await one.login('heidi');
      const other = await two.login('heidi');
      const page = await one.call('GET', '/sessions');
      assert.match(page.text, /this device/);
      assert.ok(page.text.includes(`data-path="/api/sessions/${other.sessionId}" data-method="DELETE"`));
    });

    it('answers an unknown address with a 404 page, and with JSON under /api', async () => {
      const client = visitor();
      const page = await client.call('GET', '/nowhere');
      const api = await client.call('GET', '/api/nowhere');
      assert.equal(page.status, 404);
      assert.match(page.text, /there is no page at this address/);
      assert.equal(api.status, 404);
      assert.equal(errorOf(api), 'no such API route');
    });
  });
});

describe('demo shop across a restart (SQLite, separate processes)', () => {
  it('keeps the cart and the login when a new server process opens the same DATA_DIR', async () => {
    const dataDir = await tempDir();
    try {
      const first = await spawnDemo({ PORT: '0', DATA_DIR: dataDir });
      const client = new ShopClient(first.url);
      await client.me();
      await client.add('kettle', 1);
      await client.add('honey', 3);
      const me = await client.login('ivan');
      assert.equal(await first.stop(), 0, `a clean exit on SIGTERM; output:\n${first.output()}`);

      const second = await spawnDemo({ PORT: '0', DATA_DIR: dataDir });
      try {
        const restarted = new ShopClient(second.url, client.cookie);
        const again = await restarted.me();
        assert.equal(again.user, 'ivan');
        assert.equal(again.sessionId, me.sessionId);
        assert.deepEqual(await restarted.cart(), {
          items: [
            { sku: 'kettle', qty: 1 },
            { sku: 'honey', qty: 3 },
          ],
          count: 4,
        });
      } finally {
        assert.equal(await second.stop(), 0);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('SESSION_STORE', () => {
  it('runs on the memory store', async () => {
    const { server, client } = await start({ SESSION_STORE: 'memory' });
    try {
      assert.deepEqual(await shopOnce(client()), { store: 'memory', count: 3, sessionsStatus: 200 });
    } finally {
      await server.close();
    }
  });

  it('runs on cookie-only sessions, whose session list is unavailable (501)', async () => {
    const { server, client } = await start({
      SESSION_STORE: 'cookie',
      SESSION_SECRET: randomBytes(32).toString('base64url'),
    });
    try {
      assert.deepEqual(server.backend.warnings, []);
      assert.deepEqual(await shopOnce(client()), { store: 'cookie', count: 3, sessionsStatus: 501 });
    } finally {
      await server.close();
    }
  });

  it('warns that cookie-only sessions die on restart when SESSION_SECRET is unset', async () => {
    const { server } = await start({ SESSION_STORE: 'cookie' });
    await server.close();
    assert.match(
      server.backend.warnings.join('\n'),
      /SESSION_SECRET is not set.*every session dies on restart/,
    );
  });

  it('refuses an unknown store name at startup', async () => {
    await assert.rejects(
      startDemoServer({ PORT: '0', SESSION_STORE: 'floppy' }),
      /SESSION_STORE="floppy" is not one of/,
    );
  });

  it('runs on PostgreSQL', { skip: pgSkip }, async () => {
    const { server, client } = await start({ SESSION_STORE: 'postgres', DATABASE_URL: pgUrl });
    try {
      assert.deepEqual(await shopOnce(client()), { store: 'postgres', count: 3, sessionsStatus: 200 });
    } finally {
      await server.close();
    }
  });

  it('runs on Redis', { skip: redisSkip }, async () => {
    const { server, client } = await start({ SESSION_STORE: 'redis', REDIS_URL: redisUrl });
    try {
      assert.deepEqual(await shopOnce(client()), { store: 'redis', count: 3, sessionsStatus: 200 });
    } finally {
      await server.close();
    }
  });

  it('runs on the tiered store, Redis in front of PostgreSQL', { skip: pgSkip || redisSkip }, async () => {
    const { server, client } = await start({
      SESSION_STORE: 'tiered',
      REDIS_URL: redisUrl,
      DATABASE_URL: pgUrl,
    });
    try {
      assert.match(server.backend.description, /^tiered \(cache redis .* → durable postgres/);
      assert.deepEqual(await shopOnce(client()), { store: 'tiered', count: 3, sessionsStatus: 200 });
    } finally {
      await server.close();
    }
  });

  describe('on a private memcached', () => {
    let memcached: MemcachedServer;
    let dataDir: string;
    before(async () => {
      memcached = await startMemcached();
      dataDir = await tempDir();
    });
    after(async () => {
      await memcached?.stop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('runs on memcached, which keeps no per-user index (501)', async () => {
      const { server, client } = await start({
        SESSION_STORE: 'memcached',
        MEMCACHED_URL: memcached.address,
      });
      try {
        assert.deepEqual(await shopOnce(client()), { store: 'memcached', count: 3, sessionsStatus: 501 });
      } finally {
        await server.close();
      }
    });

    it('runs on the tiered store, memcached in front of SQLite', async () => {
      const { server, client } = await start({
        SESSION_STORE: 'tiered',
        MEMCACHED_URL: memcached.address,
        DATA_DIR: dataDir,
      });
      try {
        assert.match(server.backend.description, /^tiered \(cache memcached .* → durable sqlite/);
        assert.deepEqual(await shopOnce(client()), { store: 'tiered', count: 3, sessionsStatus: 200 });
      } finally {
        await server.close();
      }
    });
  });

  it('answers 503 with a clear message, not a fresh session, when the store is down', async () => {
    // Port 1 on the loopback refuses connections: the store fails at once.
    const { server, client } = await start({
      SESSION_STORE: 'postgres',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
    });
    try {
      const visitor = new ShopClient(client().base, FOREIGN_TOKEN);
      const api = await visitor.call('GET', '/api/me');
      const page = await visitor.call('GET', '/cart');
      assert.equal(api.status, 503);
      assert.match(errorOf(api), /session store is unavailable/);
      assert.deepEqual(api.setCookies, [], 'the cookie is left alone');
      assert.equal(page.status, 503);
      assert.match(page.text, /session store is unavailable/);
    } finally {
      await server.close();
    }
  });
});
