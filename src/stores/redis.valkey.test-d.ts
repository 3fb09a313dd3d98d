import { Cluster, Valkey } from 'iovalkey';
import { createRedisStore, type RedisLike, type RedisStore } from './redis.js';

// iovalkey's client and Cluster fit the store's structural contract (through `call`, like ioredis).
const valkey: RedisLike = new Valkey({ lazyConnect: true });
const cluster: RedisLike = new Cluster([{ host: '127.0.0.1', port: 7100 }], { lazyConnect: true });
const store: RedisStore = createRedisStore(valkey, { keyPrefix: 'app:' });
createRedisStore(cluster, { keyPrefix: '{app}:' });
void (store.destroy('key') satisfies Promise<{ successor: string | null }>);

// @ts-expect-error keyPrefix is a string
createRedisStore(valkey, { keyPrefix: 1 });
