// Valkey speaks the Redis protocol; its Node client `iovalkey` (an ioredis fork) goes through the same
// `call` path of createRedisStore. No Valkey server is packaged for this machine's Debian, so the suite
// runs against the Redis server here (see docs/stores.md, Redis and Valkey).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Valkey } from 'iovalkey';
import { serviceSkip, services } from '../../tools/services.js';
import { randomString } from '../core/crypto.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { randomKey, randomUserId, sampleRecord } from '../testing/records.js';
import { describeStoreConformance } from '../testing/store-conformance.js';
import { createRedisStore } from './redis.js';

const skip = await serviceSkip('Redis (for iovalkey)', services.redis.port, services.redis.host);
const freshPrefix = () => `sk-test-valkey:${randomString(6)}:`;

describe('createRedisStore with iovalkey', { skip }, () => {
  let client: Valkey;
  before(() => {
    client = new Valkey(services.redis);
  });
  after(() => client.quit());

  /** Unlinks the keys one test wrote (KEYS is fine on a test server; the prefix is unique per test). */
  const deletePrefix = async (prefix: string) => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.unlink(...keys);
  };

  describeStoreConformance(
    'redis (iovalkey)',
    async (clock) => {
      const keyPrefix = freshPrefix();
      return {
        store: createRedisStore(client, { keyPrefix, clock }),
        clock,
        cleanup: () => deletePrefix(keyPrefix),
      };
    },
    { skip },
  );

  it('writes the same layout as with ioredis: one hash per session, a set per user', async () => {
    const keyPrefix = freshPrefix();
    try {
      const clock = createFakeClock();
      const store = createRedisStore(client, { keyPrefix, clock });
      const [key, userId] = [randomKey(), randomUserId()];
      await store.set(key, sampleRecord(clock, { cart: ['a'] }, { userId }));
      assert.equal(await client.type(`${keyPrefix}s:${key}`), 'hash');
      assert.deepEqual(await client.smembers(`${keyPrefix}u:${userId}`), [key]);
    } finally {
      await deletePrefix(keyPrefix);
    }
  });
});
