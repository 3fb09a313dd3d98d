import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { createClient as createClientV5, createCluster as createClusterV5 } from 'redis5';
import { createRedisStore, type RedisLike, type RedisStore } from './redis.js';

// ioredis (standalone and Cluster) and node-redis 6 and 5 fit the store's structural contract.
const ioredis: RedisLike = new Redis({ lazyConnect: true });
const cluster: RedisLike = new Cluster([{ host: '127.0.0.1', port: 7100 }], { lazyConnect: true });
const nodeRedis6: RedisLike = createClient({ url: 'redis://127.0.0.1:6379' });
const nodeRedis5: RedisLike = createClientV5({ url: 'redis://127.0.0.1:6379' });
const store: RedisStore = createRedisStore(ioredis, { keyPrefix: 'app:', checkEvictionPolicy: false });
createRedisStore(cluster);
createRedisStore(nodeRedis6, { keyPrefix: 'app:' });
createRedisStore(nodeRedis5);
createRedisStore(createClient({ RESP: 3 }));
void (store.listByUser('user') satisfies Promise<{ key: string }[]>);

// @ts-expect-error a node-redis Cluster routes sendCommand(firstKey, isReadonly, args): use ioredis's Cluster
createRedisStore(createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7100' }] }));

// @ts-expect-error the same for node-redis 5
createRedisStore(createClusterV5({ rootNodes: [{ url: 'redis://127.0.0.1:7100' }] }));

// @ts-expect-error a client with neither call nor sendCommand does not fit
createRedisStore({ get: async (_key: string) => null });

// @ts-expect-error keyPrefix is a string
createRedisStore(ioredis, { keyPrefix: 1 });

// @ts-expect-error checkEvictionPolicy is a boolean
createRedisStore(ioredis, { checkEvictionPolicy: 'yes' });
