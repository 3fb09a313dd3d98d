/**
 * The failover scenarios of `npm run chaos` (group `failover`): the load runs while a Redis master is
 * SIGKILLed, a replica is promoted and the old master rejoins as a replica — in a Redis Cluster (3
 * masters, 3 replicas) and in a Sentinel group (1 master, 1 replica, 3 sentinels) — with and without
 * the Redis store's `waitForReplicas`, and under the tiered store with PostgreSQL durable.
 */
import { Cluster, Redis } from 'ioredis';
import { createRedisStore, type RedisStore } from '../../src/stores/redis.js';
import { createTieredStore } from '../../src/stores/tiered.js';
import { withTimeout } from '../../src/stores/timeout.js';
import { type FailoverTimes, type ReplicatedRedis, SENTINEL_MASTER } from '../../tools/services.js';
import {
  type ChaosContext,
  type ChaosTiming,
  type FailoverReport,
  postgresTable,
  type Rig,
  type ScenarioDefinition,
  STORE_TIMEOUT_MS,
  type Step,
} from './chaos-scenarios.js';
import type { ReplicatedKind } from './replicated.js';
import type { Tally } from './tally.js';

/** The `WAIT` the scenarios with `waitForReplicas` use: one replica, 500 ms, fail on a shortfall. */
export const REPLICA_WAIT = { replicas: 1, timeoutMs: 500, onShortfall: 'fail' } as const;

/** A client of the replicated Redis, configured as the docs recommend. */
function connect(kind: ReplicatedKind, server: ReplicatedRedis): Cluster | Redis {
  const seeds = [...server.seeds];
  const client =
    kind === 'cluster'
      ? new Cluster(seeds, {
          // Cluster node connections never reconnect (a lost node is found again through MOVED).
          redisOptions: { autoResendUnfulfilledCommands: false, connectTimeout: 500 },
          clusterRetryStrategy: () => 100,
          retryDelayOnFailover: 100,
          retryDelayOnClusterDown: 100,
          retryDelayOnTryAgain: 100,
          slotsRefreshTimeout: 500,
        })
      : new Redis({
          sentinels: seeds,
          name: SENTINEL_MASTER,
          // A WAIT resent after a reconnect could reach the new master (see waitForReplicas).
          autoResendUnfulfilledCommands: false,
          connectTimeout: 500,
          retryStrategy: () => 100,
          sentinelRetryStrategy: () => 100,
        });
  client.on('error', () => undefined);
  return client;
}

/** The load's view of each failover: how long requests failed after the kill. */
function reports(times: readonly FailoverTimes[], tally: Tally): FailoverReport[] {
  return times.map((time, i) => {
    const end = times[i + 1]?.killedAt ?? Number.POSITIVE_INFINITY;
    const failed = tally.failures.filter(([sent]) => sent >= time.killedAt && sent < end);
    const last = failed.reduce((latest, [, answered]) => Math.max(latest, answered), time.killedAt);
    return {
      atMs: time.killedAt,
      promotedMs: Math.round(time.promotedMs),
      rejoinedMs: Math.round(time.rejoinedMs),
      writesBackMs: Math.round(last - time.killedAt),
      failed: failed.length,
    };
  });
}

/** Load before, then `timing.failovers` failovers (each followed by `failoverGapMs` of load), then after. */
function failoverSteps(timing: ChaosTiming, server: ReplicatedRedis, times: FailoverTimes[]): Step[] {
  const steps: Step[] = [{ phase: 'before', ms: timing.beforeMs }];
  for (let i = 0; i < (timing.failovers ?? 1); i++) {
    steps.push({
      phase: 'fault',
      ms: timing.failoverGapMs ?? timing.beforeMs,
      action: async () => {
        times.push(await server.failover(timing.replicaLagMs ?? 0));
      },
    });
  }
  // Recovery is measured from the end of the last failover (the old master is a replica in sync again).
  steps.push({ phase: 'after', ms: timing.afterMs, restores: true });
  return steps;
}

let prefixes = 0;

async function failoverRig(
  context: ChaosContext,
  kind: ReplicatedKind,
  options: { wait: boolean; tiered: boolean },
): Promise<Rig> {
  const server = await context.replicated(kind);
  const client = connect(kind, server);
  prefixes++;
  const redis: RedisStore = createRedisStore(client, {
    keyPrefix: `fo${prefixes}-${process.pid}:`,
    checkEvictionPolicy: false,
    ...(options.wait ? { waitForReplicas: REPLICA_WAIT } : {}),
  });
  const durable = options.tiered ? await postgresTable(context.postgres, `failover_${kind}`) : undefined;
  const times: FailoverTimes[] = [];
  return {
    store:
      durable === undefined
        ? withTimeout(redis, { timeoutMs: STORE_TIMEOUT_MS })
        : withTimeout(createTieredStore({ cache: redis, durable: durable.store }), { timeoutMs: 5000 }),
    steps: (timing) => failoverSteps(timing, server, times),
    statuses: durable === undefined ? ['200', '503'] : ['200'],
    loss: options.wait || durable !== undefined ? 'none' : 'measured',
    allowLateWrites: true,
    failovers: (tally) => reports(times, tally),
    async close() {
      client.disconnect();
      await durable?.drop();
    },
  };
}

const SETUPS: Record<ReplicatedKind, string> = {
  cluster: 'Redis Cluster (3 masters + 3 replicas, node timeout 1 s)',
  sentinel: 'Redis + Sentinel (1 master, 1 replica, 3 sentinels, down after 1 s)',
};

/** The failover scenarios, in the order `npm run chaos` runs them. */
export const failoverScenarios: readonly ScenarioDefinition[] = (['cluster', 'sentinel'] as const).flatMap(
  (kind): ScenarioDefinition[] => [
    {
      name: `${kind}-failover`,
      title: `Redis store on ${SETUPS[kind]}, master SIGKILLed: asynchronous replication (loss measured)`,
      quick: true,
      group: 'failover',
      rig: (context) => failoverRig(context, kind, { wait: false, tiered: false }),
    },
    {
      name: `${kind}-failover-wait`,
      title: `Redis store with waitForReplicas (1 replica, 500 ms, fail) on ${SETUPS[kind]}, master SIGKILLed`,
      quick: true,
      group: 'failover',
      rig: (context) => failoverRig(context, kind, { wait: true, tiered: false }),
    },
    {
      name: `tiered-${kind}-failover`,
      title: `Tiered ${kind === 'cluster' ? 'Redis Cluster' : 'Redis Sentinel'} (waitForReplicas)→PostgreSQL, master SIGKILLed`,
      quick: true,
      group: 'failover',
      rig: (context) => failoverRig(context, kind, { wait: true, tiered: true }),
    },
  ],
);
