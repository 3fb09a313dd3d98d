/** The two replicated Redis setups of the failover scenarios, sized to fail over within seconds. */
import { type ReplicatedRedis, startRedisCluster, startSentinelGroup } from '../../tools/services.js';

/** The two replicated setups of the failover scenarios. */
export type ReplicatedKind = 'cluster' | 'sentinel';

/** Starts a Cluster (node timeout 1 s) or a Sentinel group (down after 1 s). */
export function startReplicated(kind: ReplicatedKind): Promise<ReplicatedRedis> {
  return kind === 'cluster'
    ? startRedisCluster({ nodeTimeoutMs: 1000 })
    : startSentinelGroup({ downAfterMs: 1000 });
}
