/**
 * The Redis store's `waitForReplicas` option against a real master and replica on spare ports: an
 * acknowledged write is already on the replica, a write the replica cannot confirm fails (or is
 * accepted with an event), and reads stay one command. The Cluster routing of WAIT is tested in
 * test/reliability/failover.test.ts (it needs a Cluster with replicas).
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { findBinary, IN_CI, type RedisServer, startRedisServer } from '../../tools/services.js';
import { systemClock } from '../core/clock.js';
import { randomString } from '../core/crypto.js';
import { DIAGNOSTICS_CHANNEL } from '../core/diagnostics.js';
import { SessionConfigError, SessionStoreError } from '../errors.js';
import { randomKey, sampleRecord } from '../testing/records.js';
import { describeStoreConformance } from '../testing/store-conformance.js';
import { createRedisStore, type IoRedisLike, type WaitForReplicasOptions } from './redis.js';

const skip = (() => {
  if (findBinary('redis-server') !== undefined) return false;
  if (IN_CI) throw new Error('redis-server is not installed — CI=true requires it (see .ci/run)');
  process.stderr.write(
    '\n!!! SKIPPED: redis-server not installed; install it to run the replica tests !!!\n\n',
  );
  return 'redis-server not installed';
})();

const io = (port: number) => {
  const client = new Redis({ host: '127.0.0.1', port, autoResendUnfulfilledCommands: false });
  client.on('error', () => undefined);
  return client;
};
const prefix = () => `sk-replica:${randomString(6)}:`;

/** Events of one type published while `body` runs. */
async function eventsDuring(type: string, body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (message: unknown) => {
    if (typeof message === 'object' && message !== null && 'type' in message && message.type === type)
      seen.push(message);
  };
  subscribe(DIAGNOSTICS_CHANNEL, listener);
  try {
    await body();
  } finally {
    unsubscribe(DIAGNOSTICS_CHANNEL, listener);
  }
  return seen;
}

describe('createRedisStore waitForReplicas: bad options', () => {
  const client = { call: async () => null };
  const bad: Array<[string, WaitForReplicasOptions]> = [
    ['waitForReplicas.replicas', { replicas: 0 }],
    ['waitForReplicas.replicas', { replicas: 1.5 }],
    ['waitForReplicas.timeoutMs', { replicas: 1, timeoutMs: 0 }],
    ['waitForReplicas.onShortfall', { replicas: 1, onShortfall: JSON.parse('"ignore"') }],
  ];
  for (const [option, waitForReplicas] of bad) {
    it(`rejects ${JSON.stringify(waitForReplicas)} naming ${option}`, () => {
      assert.throws(
        () => createRedisStore(client, { waitForReplicas }),
        (error) => error instanceof SessionConfigError && error.message.includes(option),
      );
    });
  }

  it('refuses an ioredis client that resends unanswered commands after a reconnect', () => {
    const client = new Redis({ lazyConnect: true });
    assert.throws(
      () => createRedisStore(client, { waitForReplicas: { replicas: 1 } }),
      (error) =>
        error instanceof SessionConfigError && error.message.includes('autoResendUnfulfilledCommands'),
    );
    client.disconnect();
  });
});

describe('createRedisStore waitForReplicas on a master with a replica', { skip }, () => {
  let master: RedisServer;
  let replica: RedisServer | undefined;
  let client: Redis;
  let replicaClient: Redis;
  before(async () => {
    // Diskless both ways: no RDB file is written, and the replica syncs at once.
    master = await startRedisServer(['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0']);
    replica = await startRedisServer([
      ...['--replicaof', '127.0.0.1', String(master.port), '--repl-diskless-load', 'swapdb'],
    ]);
    client = io(master.port);
    replicaClient = io(replica.port);
    for (let i = 0; i < 100 && Number(await client.call('WAIT', '1', '100')) < 1; i++);
  });
  after(async () => {
    client?.disconnect();
    replicaClient?.disconnect();
    await replica?.stop();
    await master?.stop();
  });

  describeStoreConformance(
    'redis (ioredis, waitForReplicas: 1)',
    async (clock) => {
      const store = createRedisStore(client, {
        keyPrefix: prefix(),
        clock,
        checkEvictionPolicy: false,
        waitForReplicas: { replicas: 1, timeoutMs: 2000 },
      });
      return { store, clock, cleanup: async () => undefined };
    },
    { skip },
  );

  it('acknowledges set, patch and destroy only once the replica has them (ioredis, one pipeline)', async () => {
    const keyPrefix = prefix();
    const store = createRedisStore(client, {
      keyPrefix,
      checkEvictionPolicy: false,
      waitForReplicas: { replicas: 1, timeoutMs: 2000 },
    });
    const key = randomKey();
    const record = sampleRecord(systemClock, { cart: 1 });
    await store.set(key, record);
    assert.equal(await replicaClient.hget(`${keyPrefix}s:${key}`, 'v'), String(record.version));
    const patched = await store.patch(key, { set: { cart: 2 }, delete: [], meta: record.meta });
    assert.equal(patched.status, 'ok');
    assert.equal(await replicaClient.hget(`${keyPrefix}s:${key}`, 'd:"cart"'), '2');
    await store.destroy(key);
    assert.equal(await replicaClient.exists(`${keyPrefix}s:${key}`), 0);
  });

  it('acknowledges a write only once the replica has it (node-redis, two commands on one connection)', async () => {
    const nodeRedis = await createClient({ url: `redis://127.0.0.1:${master.port}` }).connect();
    try {
      const keyPrefix = prefix();
      const store = createRedisStore(nodeRedis, {
        keyPrefix,
        checkEvictionPolicy: false,
        waitForReplicas: { replicas: 1, timeoutMs: 2000 },
      });
      const key = randomKey();
      await store.set(key, sampleRecord(systemClock, { cart: 3 }));
      assert.equal(await replicaClient.hget(`${keyPrefix}s:${key}`, 'd:"cart"'), '3');
    } finally {
      await nodeRedis.quit();
    }
  });

  it('reads with one command and never WAITs on a read', async () => {
    const commands: string[] = [];
    const recording: IoRedisLike = {
      call: (command, ...args) => {
        commands.push(command);
        return client.call(command, ...args);
      },
      pipeline: () => {
        commands.push('pipeline');
        return client.pipeline();
      },
    };
    const store = createRedisStore(recording, {
      keyPrefix: prefix(),
      checkEvictionPolicy: false,
      waitForReplicas: { replicas: 1, timeoutMs: 2000 },
    });
    const key = randomKey();
    await store.set(key, sampleRecord(systemClock));
    assert.deepEqual(commands, ['pipeline']);
    commands.length = 0;
    assert.notEqual(await store.get(key), null);
    assert.deepEqual(commands, ['HGETALL']);
  });

  // Last: stops the replica.
  it('fails a write the replica cannot confirm (onShortfall fail), or accepts it with an event (accept)', async () => {
    await replica?.stop();
    replica = undefined;
    const strict = createRedisStore(client, {
      keyPrefix: prefix(),
      checkEvictionPolicy: false,
      waitForReplicas: { replicas: 1, timeoutMs: 50 },
    });
    await assert.rejects(
      strict.set(randomKey(), sampleRecord(systemClock)),
      (error) =>
        error instanceof SessionStoreError &&
        error.code === 'ERR_SESSION_STORE' &&
        error.status === 503 &&
        /0 of 1 Redis replicas acknowledged the set within 50 ms/.test(error.message),
    );
    const lenient = createRedisStore(client, {
      keyPrefix: prefix(),
      checkEvictionPolicy: false,
      waitForReplicas: { replicas: 1, timeoutMs: 50, onShortfall: 'accept' },
    });
    const key = randomKey();
    const events = await eventsDuring('replica-shortfall', () =>
      lenient.set(key, sampleRecord(systemClock, { cart: 9 })),
    );
    assert.deepEqual(events, [
      {
        type: 'replica-shortfall',
        store: 'redis',
        detail: { operation: 'set', replicas: 0, wanted: 1, timeoutMs: 50 },
      },
    ]);
    assert.deepEqual((await lenient.get(key))?.data, { cart: 9 });
  });
});
