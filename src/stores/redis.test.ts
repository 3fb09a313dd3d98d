import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { createClient } from 'redis';
import { createClient as createClientV5 } from 'redis5';
import { assertBadMetasRefused, assertLongMetaRead } from '../../test/stores/bad-records.js';
import { type RedisServer, serviceSkip, services, startRedisServer } from '../../tools/services.js';
import { randomString, tokenKey } from '../core/crypto.js';
import { DIAGNOSTICS_CHANNEL } from '../core/diagnostics.js';
import { createSessionManager } from '../core/manager.js';
import { SessionConfigError, SessionStoreError } from '../errors.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { randomKey, randomUserId, sampleMeta, sampleRecord } from '../testing/records.js';
import { describeStoreConformance } from '../testing/store-conformance.js';
import { createRedisStore, type IoRedisLike } from './redis.js';

const redisSkip = await serviceSkip('Redis', services.redis.port, services.redis.host);
const clusterSkip = await serviceSkip(
  'Redis Cluster',
  services.redisCluster.port,
  services.redisCluster.host,
);
const redisUrl = `redis://${services.redis.host}:${services.redis.port}`;

const connectV6 = () => createClient({ url: redisUrl }).connect();
const connectV5 = () => createClientV5({ url: redisUrl }).connect();
const freshPrefix = () => `sk-test:${randomString(6)}:`;

/** Unlinks every key under `prefix` on each node, one key per command (a Cluster node refuses cross-slot). */
async function deleteKeys(nodes: Redis[], prefix: string): Promise<void> {
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await node.pipeline(keys.map((key) => ['unlink', key])).exec();
    } while (cursor !== '0');
  }
}

/** The real client, recording the name of every command the store sends. */
function recording(client: Redis): IoRedisLike & { commands: string[] } {
  const commands: string[] = [];
  return {
    commands,
    call(command, ...args) {
      commands.push(command);
      return client.call(command, ...args);
    },
  };
}

const isEvent = (value: unknown): value is { type: string } =>
  typeof value === 'object' && value !== null && 'type' in value;

/** Collects the process warnings emitted while `body` runs (they are emitted on the next tick). */
async function warningsDuring(body: () => Promise<void>): Promise<Error[]> {
  const warnings: Error[] = [];
  const listener = (warning: Error) => warnings.push(warning);
  process.on('warning', listener);
  try {
    await body();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return warnings;
}
const evictionWarnings = (warnings: Error[]) =>
  warnings.filter((warning) => 'code' in warning && warning.code === 'SESSIONKIT_REDIS_EVICTION');

describe('createRedisStore', () => {
  describe('with ioredis', { skip: redisSkip }, () => {
    let client: Redis;
    before(() => {
      client = new Redis(services.redis);
    });
    after(() => client.quit());

    describeStoreConformance(
      'redis (ioredis)',
      async (clock) => {
        const keyPrefix = freshPrefix();
        const store = createRedisStore(client, { keyPrefix, clock });
        return { store, clock, cleanup: () => deleteKeys([client], keyPrefix) };
      },
      { skip: redisSkip },
    );

    it('keeps a session in one hash under <prefix>s:<key> and its user in a set under <prefix>u:<userId>', async () => {
      const keyPrefix = freshPrefix();
      try {
        const clock = createFakeClock();
        const store = createRedisStore(client, { keyPrefix, clock });
        const [key, userId] = [randomKey(), randomUserId()];
        const record = sampleRecord(clock, { cart: ['a'], 'x:y': 1 }, { userId });
        await store.set(key, record);
        assert.equal(await client.type(`${keyPrefix}s:${key}`), 'hash');
        assert.deepEqual(await client.hgetall(`${keyPrefix}s:${key}`), {
          v: '1',
          m: `{"t":[${clock.now()},0,1800000,43200000],"a":"__Host-sid","u":${JSON.stringify(userId)}}`,
          u: userId,
          'd:"cart"': '["a"]',
          'd:"x:y"': '1',
        });
        assert.deepEqual(await client.smembers(`${keyPrefix}u:${userId}`), [key]);
      } finally {
        await deleteKeys([client], keyPrefix);
      }
    });

    it('get sends one HGETALL, patch one EVALSHA; the eviction check runs once, at the first command', async () => {
      const keyPrefix = freshPrefix();
      const recorder = recording(client);
      try {
        const clock = createFakeClock();
        // Scripts the server has never seen cost one NOSCRIPT answer and an EVAL, once per server.
        const warm = createRedisStore(client, { keyPrefix, clock, checkEvictionPolicy: false });
        const warmKey = randomKey();
        await warm.set(warmKey, sampleRecord(clock, {}, { userId: randomUserId() }));
        await warm.get(warmKey);
        await warm.patch(warmKey, { set: {}, delete: [], meta: sampleMeta(clock) });
        const store = createRedisStore(recorder, { keyPrefix, clock });
        assert.deepEqual(recorder.commands, [], 'creating the store sends nothing');
        const key = randomKey();
        await store.get(key);
        await store.get(key);
        assert.deepEqual(recorder.commands, ['CONFIG', 'HGETALL', 'HGETALL']);
        const userId = randomUserId();
        const record = sampleRecord(clock, { a: 1 }, { userId });
        await store.set(key, record);
        recorder.commands.length = 0;
        // A touch of a logged-in session: same user, expiry still within the absolute one.
        clock.advanceSeconds(60);
        const touched = sampleMeta(clock, { userId, absoluteExpiresAt: record.meta.absoluteExpiresAt });
        assert.equal((await store.patch(key, { set: { b: 2 }, delete: ['a'], meta: touched })).status, 'ok');
        assert.deepEqual(recorder.commands, ['EVALSHA']);
        recorder.commands.length = 0;
        // Removing the user costs a second command, for the index.
        await store.patch(key, { set: {}, delete: [], meta: sampleMeta(clock) });
        assert.deepEqual(recorder.commands, ['EVALSHA', 'SREM']);
      } finally {
        await deleteKeys([client], keyPrefix);
      }
    });

    it('keeps a successor key in field s, patches no such record, and destroy returns it (one script on one key)', async () => {
      const keyPrefix = freshPrefix();
      const recorder = recording(client);
      try {
        const clock = createFakeClock();
        const store = createRedisStore(recorder, { keyPrefix, clock, checkEvictionPolicy: false });
        const [old, next] = [randomKey(), randomKey()];
        await store.set(old, sampleRecord(clock, { a: 1 }));
        const successor = { key: next, graceUntil: clock.now(), regenerated: true as const };
        const linked = await store.patch(old, {
          set: {},
          delete: ['a'],
          meta: sampleMeta(clock, { successor }),
          ifVersion: 1,
        });
        assert.equal(linked.status, 'ok');
        assert.equal(await client.hget(`${keyPrefix}s:${old}`, 's'), next);
        const touch = { set: { b: 1 }, delete: [], meta: sampleMeta(clock) };
        assert.deepEqual(await store.patch(old, touch), { status: 'missing' });
        recorder.commands.length = 0;
        assert.deepEqual(await store.destroy(old), { successor: next });
        assert.deepEqual(recorder.commands, ['EVALSHA'], 'a logout without a user is one round trip');
        assert.equal(await client.exists(`${keyPrefix}s:${old}`), 0);
        assert.deepEqual(await store.destroy(old), { successor: null });
      } finally {
        await deleteKeys([client], keyPrefix);
      }
    });

    it('drops index entries of sessions that are gone and lists no session of another user', async () => {
      const keyPrefix = freshPrefix();
      try {
        const clock = createFakeClock();
        const store = createRedisStore(client, { keyPrefix, clock });
        const [alice, bob] = [randomUserId('alice'), randomUserId('bob')];
        const [live, gone, bobs] = [randomKey(), randomKey(), randomKey()];
        await store.set(live, sampleRecord(clock, {}, { userId: alice }));
        await store.set(bobs, sampleRecord(clock, {}, { userId: bob }));
        // As a lost SREM or an expired hash leaves them: members without a session of this user.
        await client.sadd(`${keyPrefix}u:${alice}`, gone, bobs);
        assert.deepEqual(
          (await store.listByUser(alice)).map((entry) => entry.key),
          [live],
        );
        assert.equal(await client.sismember(`${keyPrefix}u:${alice}`, gone), 0);
        assert.equal(await store.destroyByUser(alice), 1);
        assert.notEqual(await store.get(bobs), null);
      } finally {
        await deleteKeys([client], keyPrefix);
      }
    });

    it('reads and patches a hash whose meta is in the long layout written before', async () => {
      const keyPrefix = freshPrefix();
      try {
        const clock = createFakeClock();
        const store = createRedisStore(client, { keyPrefix, clock });
        await assertLongMetaRead(store, clock, async (key, meta) => {
          await client.hset(`${keyPrefix}s:${key}`, 'm', meta);
        });
      } finally {
        await deleteKeys([client], keyPrefix);
      }
    });

    it('reads a hash whose meta breaks the strict check as null', async () => {
      const keyPrefix = freshPrefix();
      try {
        const clock = createFakeClock();
        const store = createRedisStore(client, { keyPrefix, clock });
        await assertBadMetasRefused(store, 'redis', clock, async (key, meta) => {
          await client.hset(`${keyPrefix}s:${key}`, 'm', meta);
        });
      } finally {
        await deleteKeys([client], keyPrefix);
      }
    });

    it('reads a hash that does not decode as null and publishes decode-error without the key', async () => {
      const keyPrefix = freshPrefix();
      const events: unknown[] = [];
      const listener = (event: unknown) => events.push(event);
      subscribe(DIAGNOSTICS_CHANNEL, listener);
      try {
        const clock = createFakeClock();
        const store = createRedisStore(client, { keyPrefix, clock });
        const [badData, badMeta] = [randomKey(), randomKey()];
        await store.set(badData, sampleRecord(clock, { a: 1 }));
        await store.set(badMeta, sampleRecord(clock, { a: 1 }));
        await client.hset(`${keyPrefix}s:${badData}`, 'd:a', '{not json');
        await client.hset(`${keyPrefix}s:${badMeta}`, 'm', '{"createdAt":"yesterday"}');
        assert.equal(await store.get(badData), null);
        assert.equal(await store.get(badMeta), null);
        assert.deepEqual(
          events.filter((event) => isEvent(event) && event.type === 'decode-error'),
          [
            { type: 'decode-error', store: 'redis' },
            { type: 'decode-error', store: 'redis' },
          ],
        );
      } finally {
        unsubscribe(DIAGNOSTICS_CHANNEL, listener);
        await deleteKeys([client], keyPrefix);
      }
    });

    // SEC-46: a key without a TTL would outlive its session forever. Redis counts TTLs in real time,
    // so each step's fake-clock deadline is below the previous TTL: a write that kept the old TTL fails.
    it('gives the session key a TTL > 0 and ≤ the idle limit after create, change and touch, and the user index one too', async () => {
      const keyPrefix = freshPrefix();
      try {
        const clock = createFakeClock();
        const store = createRedisStore(client, { keyPrefix, clock });
        const minute = 60_000;
        // Without rotation every write lands on the same key (a rotated-out key lives idle + grace, by design).
        const manager = createSessionManager<{ n: number }>({
          store,
          clock,
          idleTimeoutSeconds: 30 * 60,
          absoluteTimeoutSeconds: 40 * 60,
          rotateAfterSeconds: 0,
        });
        const created = await manager.load(undefined);
        created.set('n', 1);
        const token = tokenFrom(await manager.commit(created));
        const pttl = () => client.pttl(`${keyPrefix}s:${tokenKey(token)}`);
        const afterCreate = await pttl();
        assert.ok(afterCreate > 0 && afterCreate <= 30 * minute, `after create: ${afterCreate}`);

        clock.advanceSeconds(15 * 60);
        const changed = await manager.load(`__Host-sid=${token}`);
        changed.set('n', 2);
        await manager.commit(changed);
        const afterChange = await pttl();
        // Now capped by the absolute timeout: 40 - 15 minutes left.
        assert.ok(afterChange > 0 && afterChange <= 25 * minute, `after change: ${afterChange}`);

        clock.advanceSeconds(15 * 60);
        await manager.commit(await manager.load(`__Host-sid=${token}`));
        const afterTouch = await pttl();
        assert.ok(afterTouch > 0 && afterTouch <= 10 * minute, `after touch: ${afterTouch}`);

        const session = await manager.load(`__Host-sid=${token}`);
        const userId = randomUserId();
        await session.login(userId);
        await manager.commit(session);
        const indexTtl = await client.pttl(`${keyPrefix}u:${userId}`);
        assert.ok(indexTtl > 0, `user index: ${indexTtl}`);
      } finally {
        await deleteKeys([client], keyPrefix);
      }
    });
  });

  describe('with node-redis 6', { skip: redisSkip }, () => {
    let client: Awaited<ReturnType<typeof connectV6>>;
    let admin: Redis;
    before(async () => {
      client = await connectV6();
      admin = new Redis(services.redis);
    });
    after(async () => {
      client.destroy();
      await admin.quit();
    });

    describeStoreConformance(
      'redis (node-redis 6)',
      async (clock) => {
        const keyPrefix = freshPrefix();
        const store = createRedisStore(client, { keyPrefix, clock });
        return { store, clock, cleanup: () => deleteKeys([admin], keyPrefix) };
      },
      { skip: redisSkip },
    );
  });

  describe('with node-redis 5', { skip: redisSkip }, () => {
    let client: Awaited<ReturnType<typeof connectV5>>;
    let admin: Redis;
    before(async () => {
      client = await connectV5();
      admin = new Redis(services.redis);
    });
    after(async () => {
      client.destroy();
      await admin.quit();
    });

    describeStoreConformance(
      'redis (node-redis 5)',
      async (clock) => {
        const keyPrefix = freshPrefix();
        const store = createRedisStore(client, { keyPrefix, clock });
        return { store, clock, cleanup: () => deleteKeys([admin], keyPrefix) };
      },
      { skip: redisSkip },
    );
  });

  describe('with an ioredis Cluster of three masters', { skip: clusterSkip }, () => {
    let cluster: Cluster;
    before(async () => {
      cluster = new Cluster([services.redisCluster]);
      const masters = await cluster.call('CLUSTER', 'INFO');
      assert.match(String(masters), /cluster_size:3/);
    });
    after(() => cluster.quit());

    describeStoreConformance(
      'redis (ioredis Cluster)',
      async (clock) => {
        const keyPrefix = freshPrefix();
        const store = createRedisStore(cluster, { keyPrefix, clock });
        return { store, clock, cleanup: () => deleteKeys(cluster.nodes('master'), keyPrefix) };
      },
      { skip: clusterSkip },
    );
  });

  describe('options', () => {
    it('throws SessionConfigError for a bad keyPrefix, client or checkEvictionPolicy', () => {
      const client = { call: async () => null };
      // @ts-expect-error a JavaScript caller may pass anything
      assert.throws(() => createRedisStore(client, { keyPrefix: 1 }), { option: 'keyPrefix' });
      // @ts-expect-error a JavaScript caller may pass anything
      assert.throws(() => createRedisStore(client, { checkEvictionPolicy: 'no' }), {
        option: 'checkEvictionPolicy',
      });
      // @ts-expect-error a JavaScript caller may pass anything
      assert.throws(() => createRedisStore({ get: async () => null }), SessionConfigError);
      // @ts-expect-error a JavaScript caller may pass anything
      assert.throws(() => createRedisStore(undefined), { option: 'client' });
    });
  });

  // SEC-47, each on a private redis-server so that the shared one is never starved or reconfigured.
  describe('durability checks', { skip: redisSkip }, () => {
    const servers: RedisServer[] = [];
    const clients: Redis[] = [];
    const connect = async (extraArgs: string[]) => {
      const server = await startRedisServer(extraArgs);
      servers.push(server);
      const client = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1 });
      clients.push(client);
      return client;
    };
    after(async () => {
      await Promise.all(clients.map((client) => client.quit()));
      await Promise.all(servers.map((server) => server.stop()));
    });

    // Issue 13: a read is one command executed on the server, not EVALSHA wrapping HGETALL (which
    // Redis counts as two). Counted on a private server: INFO commandstats is server-wide.
    it('a read counts as one command in INFO commandstats', async () => {
      const client = await connect([]);
      const clock = createFakeClock();
      const store = createRedisStore(client, { clock, checkEvictionPolicy: false });
      const key = randomKey();
      const record = sampleRecord(clock, { a: 1, cart: ['x'] }, { userId: randomUserId() });
      await store.set(key, record);
      await client.config('RESETSTAT');
      for (let i = 0; i < 10; i++) assert.deepEqual(await store.get(key), record);
      const stats = await client.info('commandstats');
      const calls = [...stats.matchAll(/^cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/gm)]
        .filter(([, name]) => name !== 'info' && name !== 'config|resetstat')
        .map(([, name, count]) => `${name}=${count}`);
      assert.deepEqual(calls, ['hgetall=10']);
    });

    it('works without a warning when CONFIG is disabled', async () => {
      const client = await connect(['--maxmemory-policy', 'volatile-lru', '--rename-command', 'CONFIG', '']);
      await assert.rejects(client.call('CONFIG', 'GET', 'maxmemory-policy'), /unknown command/i);
      const warnings = await warningsDuring(async () => {
        const store = createRedisStore(client);
        const key = randomKey();
        const record = sampleRecord(createFakeClock(), { a: 1 });
        await store.set(key, record);
        assert.deepEqual(await store.get(key), record);
      });
      assert.deepEqual(evictionWarnings(warnings), []);
    });

    it('with noeviction and a full memory, rejects writes (503 from the manager) and loses nothing', async () => {
      const client = await connect(['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
      const clock = createFakeClock();
      const warnings = await warningsDuring(async () => {
        const store = createRedisStore(client, { clock });
        const key = randomKey();
        const record = sampleRecord(clock, { a: 'kept' }, { userId: randomUserId() });
        await store.set(key, record);
        const filler = 'x'.repeat(100_000);
        let full = false;
        for (let i = 0; i < 100 && !full; i++) {
          full = await client.set(`filler:${i}`, filler).then(
            () => false,
            (error: Error) => /OOM/.test(error.message),
          );
        }
        assert.ok(full, 'the server reached maxmemory');
        // A refused command frees its query buffer, which can bring memory back just under the limit;
        // halving the limit keeps the server full whatever buffers come and go.
        const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
        await client.config('SET', 'maxmemory', String(Math.floor(used / 2)));

        await assert.rejects(store.set(randomKey(), sampleRecord(clock, { b: 1 })), /OOM/);
        await assert.rejects(store.set(key, sampleRecord(clock, { a: 'replaced' }, {}, 2)), /OOM/);
        await assert.rejects(
          store.patch(key, { set: { a: 'changed' }, delete: [], meta: sampleMeta(clock) }),
          /OOM/,
        );
        assert.deepEqual(await store.get(key), record);

        const manager = createSessionManager({ store, clock });
        const session = await manager.load(undefined);
        session.set('n', 1);
        await assert.rejects(manager.commit(session), (error) => {
          assert.ok(error instanceof SessionStoreError);
          assert.equal(error.status, 503);
          assert.match(String(error.cause), /OOM/);
          return true;
        });
      });
      assert.deepEqual(evictionWarnings(warnings), []);
    });

    // Last: the warning is emitted once per process, which would hide a wrong warning in a later test.
    it('warns once (SESSIONKIT_REDIS_EVICTION) when maxmemory-policy is allkeys-lru', async () => {
      const client = await connect(['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru']);
      const first = await warningsDuring(async () => {
        await createRedisStore(client).get(randomKey());
      });
      assert.equal(evictionWarnings(first).length, 1);
      assert.match(evictionWarnings(first)[0]?.message ?? '', /allkeys-lru/);
      const second = await warningsDuring(async () => {
        await createRedisStore(client).get(randomKey());
      });
      assert.deepEqual(evictionWarnings(second), []);
    });
  });
});

function tokenFrom(setCookies: string[]): string {
  const value = setCookies
    .find((c) => c.startsWith('__Host-sid='))
    ?.slice('__Host-sid='.length)
    .split(';')[0];
  assert.ok(value, `expected a session cookie in ${JSON.stringify(setCookies)}`);
  return value;
}
