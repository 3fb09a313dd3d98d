/**
 * `login(userId)` takes only ids every store keeps exactly: well-formed Unicode, no U+0000, 1 to 256
 * UTF-16 code units. A lone surrogate is replaced by U+FFFD on its way to UTF-8 (Redis, PostgreSQL),
 * so two distinct ids would share one per-user index entry; U+0000 is refused by PostgreSQL `text`.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { randomString } from '../../src/core/crypto.js';
import { createSessionManager, type SessionStore, type StoreSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createPostgresStore } from '../../src/stores/postgres.js';
import { createRedisStore } from '../../src/stores/redis.js';
import { serviceSkip, services } from '../../tools/services.js';

const pgSkip = await serviceSkip('PostgreSQL', services.postgres.port, services.postgres.host);
const redisSkip = await serviceSkip('Redis', services.redis.port, services.redis.host);

type Manager = StoreSessionManager<Record<string, unknown>>;

/** The Cookie header for the session cookie among `setCookies`. */
function cookieHeader(setCookies: string[]): string {
  const line = setCookies.find((c) => c.startsWith('__Host-sid=') && !c.includes('Max-Age=0'));
  assert.ok(line, 'a session cookie');
  return line.slice(0, line.indexOf(';'));
}

/** Logs a new session in as `userId`: its Cookie header, or the error `login` rejected with. */
async function loginAs(manager: Manager, userId: string): Promise<{ header: string } | { error: unknown }> {
  const session = await manager.load(undefined);
  session.set('owner', 'test');
  try {
    await session.login(userId);
  } catch (error) {
    return { error };
  }
  return { header: cookieHeader(await manager.commit(session)) };
}

/**
 * Three distinct ids that one UTF-8 round trip maps to the same string (`u-\uFFFD`): every id must
 * either be refused as a value or keep its sessions apart from the others' in the per-user index.
 */
async function assertIdsIsolated(manager: Manager): Promise<void> {
  const ids = [`u-${randomString(6)}-\uFFFD`];
  const [wellFormed = ''] = ids;
  ids.push(wellFormed.replace('\uFFFD', '\uD800'), wellFormed.replace('\uFFFD', '\uDC00'));
  const sessions = new Map<string, string>();
  for (const id of ids) {
    const result = await loginAs(manager, id);
    if ('header' in result) sessions.set(id, result.header);
    else assert.equal(Reflect.get(Object(result.error), 'code'), 'ERR_SESSION_VALUE');
  }
  for (const revoked of ids) {
    try {
      await manager.revokeUserSessions(revoked);
    } catch (error) {
      assert.equal(Reflect.get(Object(error), 'code'), 'ERR_SESSION_VALUE');
      continue;
    }
    for (const [id, header] of sessions) {
      if (id === revoked) continue;
      const session = await manager.load(header);
      assert.equal(
        session.userId,
        id,
        `revoking ${JSON.stringify(revoked)} ended the session of ${JSON.stringify(id)}`,
      );
    }
    sessions.delete(revoked);
  }
  // The well-formed id is never the refused one.
  assert.equal(Object.hasOwn(await loginAs(manager, wellFormed), 'header'), true);
}

describe('login(userId) validation', () => {
  it('refuses an empty id, an id over 256 UTF-16 units, a lone surrogate or U+0000 with ERR_SESSION_VALUE, and the session stays usable', async () => {
    const store = createMemoryStore();
    const manager = createSessionManager({ store });
    const refused = ['', 'x'.repeat(257), 'a\uD800', '\uDC00b', 'a\u0000b', 'a\uDC00\uD800'];
    for (const userId of refused) {
      const result = await loginAs(manager, userId);
      assert.ok('error' in result, `login(${JSON.stringify(userId)}) was accepted`);
      assert.equal(Reflect.get(Object(result.error), 'code'), 'ERR_SESSION_VALUE');
      assert.equal(Reflect.get(Object(result.error), 'key'), 'userId');
      await assert.rejects(manager.revokeUserSessions(userId), { code: 'ERR_SESSION_VALUE' });
      await assert.rejects(manager.listUserSessions(userId), { code: 'ERR_SESSION_VALUE' });
    }
    assert.equal(store.size, 0);
    for (const userId of ['x'.repeat(256), 'ada', '\u{1F600}', 'a\uFFFDb']) {
      const result = await loginAs(manager, userId);
      assert.ok('header' in result, `login(${JSON.stringify(userId)}) was refused`);
      assert.equal((await manager.load(result.header)).userId, userId);
    }
    await manager.close();
  });
});

describe('user ids on PostgreSQL', { skip: pgSkip }, () => {
  const pool = new pg.Pool({ ...services.postgres, max: 4 });
  const table = `sk_user_ids_${randomString(6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}`;
  let manager: Manager;
  after(async () => {
    await manager?.close();
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  });

  it('answers login with a U+0000 user id with ERR_SESSION_VALUE, not a store error, and later logins work', async () => {
    const store: SessionStore = createPostgresStore(pool, { table });
    manager = createSessionManager({ store });
    const result = await loginAs(manager, 'ada\u0000admin');
    assert.ok('error' in result);
    assert.equal(Reflect.get(Object(result.error), 'code'), 'ERR_SESSION_VALUE');
    await assert.rejects(manager.revokeUserSessions('ada\u0000admin'), { code: 'ERR_SESSION_VALUE' });
    const ok = await loginAs(manager, 'ada');
    assert.ok('header' in ok);
    assert.equal((await manager.load(ok.header)).userId, 'ada');
  });

  it('keeps user ids that one UTF-8 round trip would merge apart in the per-user index', async () => {
    await assertIdsIsolated(manager);
  });
});

describe('user ids on Redis', { skip: redisSkip }, () => {
  const client = new Redis(services.redis);
  const keyPrefix = `sk-user-ids:${randomString(6)}:`;
  after(async () => {
    const keys = await client.keys(`${keyPrefix}*`);
    if (keys.length > 0) await client.unlink(...keys);
    await client.quit();
  });

  it('keeps user ids that one UTF-8 round trip would merge apart: revoking one never ends another user’s sessions', async () => {
    const store = createRedisStore(client, { keyPrefix, checkEvictionPolicy: false });
    const manager = createSessionManager({ store });
    await assertIdsIsolated(manager);
    await manager.close();
  });
});
