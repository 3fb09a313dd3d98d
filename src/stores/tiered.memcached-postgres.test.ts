import { postgresTable } from '../../test/fixtures/postgres-table.js';
import { testMemcachedClient } from '../../tools/memcached-server.js';
import { serviceSkip, services } from '../../tools/services.js';
import { randomString } from '../core/crypto.js';
import { describeStoreConformance } from '../testing/index.js';
import { createMemcachedStore } from './memcached.js';
import { createTieredStore } from './tiered.js';

const skip =
  (await serviceSkip('PostgreSQL', services.postgres.port, services.postgres.host)) ||
  (await serviceSkip('memcached', services.memcached.port, services.memcached.host));

describeStoreConformance(
  'tiered Memcached→PostgreSQL',
  async (clock) => {
    const client = testMemcachedClient(`${services.memcached.host}:${services.memcached.port}`);
    const durable = postgresTable(clock, 'sk_tiered');
    return {
      store: createTieredStore({
        cache: createMemcachedStore(client, { clock, keyPrefix: `sk-test:${randomString(6)}:` }),
        durable: durable.store,
        clock,
      }),
      clock,
      cleanup: async () => {
        client.close();
        await durable.drop();
      },
    };
  },
  { skip },
);
