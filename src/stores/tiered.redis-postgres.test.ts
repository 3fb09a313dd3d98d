import { Redis } from 'ioredis';
import { postgresTable } from '../../test/fixtures/postgres-table.js';
import { serviceSkip, services } from '../../tools/services.js';
import { randomString } from '../core/crypto.js';
import { describeStoreConformance } from '../testing/index.js';
import { createRedisStore } from './redis.js';
import { createTieredStore } from './tiered.js';

const skip =
  (await serviceSkip('PostgreSQL', services.postgres.port, services.postgres.host)) ||
  (await serviceSkip('Redis', services.redis.port, services.redis.host));

describeStoreConformance(
  'tiered Redis→PostgreSQL',
  async (clock) => {
    const redis = new Redis(services.redis);
    const keyPrefix = `sk-test:${randomString(6)}:`;
    const durable = postgresTable(clock, 'sk_tiered');
    return {
      store: createTieredStore({
        cache: createRedisStore(redis, { clock, keyPrefix, checkEvictionPolicy: false }),
        durable: durable.store,
        clock,
      }),
      clock,
      cleanup: async () => {
        const keys = await redis.keys(`${keyPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
        await durable.drop();
      },
    };
  },
  { skip },
);
