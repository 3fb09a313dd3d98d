/**
 * The services tests, benchmarks, reliability runs and scripts need, in one place: the shared ones
 * (found, or the suite skipped loudly — except under CI=true, where a missing one is a failure), spare
 * ports, and private servers started on them, one spawner per kind (never the shared instances):
 * redis-server, a Redis Cluster, a Sentinel group, memcached and a throwaway PostgreSQL cluster. Each
 * lives in services/<kind>.ts; every process and directory they make is torn down at exit.
 */
export { binariesSkip, findBinary, findPostgresBinary, missingBinaries } from './services/binaries.js';
export {
  type MemcachedServer,
  type MemcachedServerOptions,
  memcachedCommand,
  startMemcached,
} from './services/memcached.js';
export { sparePort } from './services/ports.js';
export { type PostgresServer, startPostgres } from './services/postgres.js';
export { type ManagedServer, ServerProcess, tempDir } from './services/process.js';
export {
  type RedisServer,
  type RedisServerOptions,
  redisServerBinary,
  startRedisServer,
} from './services/redis.js';
export { startRedisCluster } from './services/redis-cluster.js';
export { ask, type FailoverTimes, type ReplicatedRedis } from './services/redis-replication.js';
export { SENTINEL_MASTER, startSentinelGroup } from './services/redis-sentinel.js';
export { IN_CI, loudSkip, reachable, serviceSkip, services } from './services/shared.js';
