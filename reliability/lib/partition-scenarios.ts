/**
 * The partition scenarios of `npm run chaos` (group `partition`): the app (with its load and its
 * PostgreSQL) runs in one network namespace, redis-server in another, and the veth link between them
 * is cut and restored under load. `runPartitioned` makes the namespaces and runs the scenarios in a
 * child process inside the app namespace; the rigs below run there.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRedisStore } from '../../src/stores/redis.js';
import { createTieredStore } from '../../src/stores/tiered.js';
import { withTimeout } from '../../src/stores/timeout.js';
import { type RedisServer, startRedisServer } from '../../tools/services.js';
import {
  type ChaosContext,
  faultSteps,
  postgresTable,
  type Rig,
  type ScenarioDefinition,
  type ScenarioResult,
  STORE_TIMEOUT_MS,
} from './chaos-scenarios.js';
import { say } from './cli.js';
import {
  createNetnsPair,
  currentPair,
  inStoreNamespace,
  NETNS_ENV,
  type NetnsPair,
  netnsUnavailable,
  setLink,
} from './netns.js';

/** Where the child writes its results (environment variable). */
const RESULTS_ENV = 'SK_NETNS_RESULTS';

function pairOrThrow(): NetnsPair {
  const pair = currentPair();
  if (pair === undefined) throw new Error(`partition scenarios run inside the app namespace (${NETNS_ENV})`);
  return pair;
}

/** redis-server in the store namespace, listening on the store's address only. */
function storeRedis(pair: NetnsPair): Promise<RedisServer> {
  return startRedisServer(['--maxmemory-policy', 'noeviction', '--protected-mode', 'no'], {
    host: pair.storeAddress,
    launcher: inStoreNamespace(pair),
  });
}

async function partitionRig(context: ChaosContext, tiered: boolean): Promise<Rig> {
  const pair = pairOrThrow();
  const server = await storeRedis(pair);
  const client = new Redis({ host: pair.storeAddress, port: server.port, connectTimeout: 500 });
  client.on('error', () => undefined);
  const redis = createRedisStore(client, { keyPrefix: 'partition:', checkEvictionPolicy: false });
  const durable = tiered ? await postgresTable(context.postgres, 'partition') : undefined;
  return {
    store:
      durable === undefined
        ? withTimeout(redis, { timeoutMs: STORE_TIMEOUT_MS })
        : withTimeout(createTieredStore({ cache: redis, durable: durable.store }), { timeoutMs: 5000 }),
    steps: (timing) =>
      faultSteps(
        timing,
        () => setLink(pair, 'down'),
        () => setLink(pair, 'up'),
      ),
    statuses: tiered ? ['200'] : ['200', '503'],
    loss: 'none',
    async check(result) {
      const fault = result.phases.fault;
      if (fault === undefined || fault.requests === 0) return ['no request during the partition'];
      if (!tiered && (fault.byStatus['503'] ?? 0) === 0) return ['no 503 while the store was cut off'];
      if (tiered && (result.events['fault/cache-error'] ?? 0) === 0) return ['the cache never failed'];
      return [];
    },
    async close() {
      client.disconnect();
      await server.close();
      await durable?.drop();
    },
  };
}

/** The partition scenarios (run inside the app namespace; see `runPartitioned`). */
export const partitionScenarios: readonly ScenarioDefinition[] = [
  {
    name: 'redis-partition',
    title: `Redis store in another network namespace, the link cut then restored; withTimeout ${STORE_TIMEOUT_MS} ms`,
    quick: true,
    group: 'partition',
    rig: (context) => partitionRig(context, false),
  },
  {
    name: 'tiered-partition',
    title:
      'Tiered Redis→PostgreSQL, the Redis cache in another network namespace, the link cut then restored',
    quick: true,
    group: 'partition',
    rig: (context) => partitionRig(context, true),
  },
];

/** True in the child that `runPartitioned` started inside the app namespace. */
export function insideAppNamespace(): boolean {
  return currentPair() !== undefined;
}

/** The child's side: where to write its results, if it is the child. */
export function resultsPath(): string | undefined {
  return process.env[RESULTS_ENV];
}

/**
 * Runs `names` (partition scenarios) in a child `chaos.ts` inside a fresh app namespace, the store's
 * namespace beside it; returns their results, or none (said loudly) where namespaces cannot be made.
 */
export async function runPartitioned(names: readonly string[], quick: boolean): Promise<ScenarioResult[]> {
  const unavailable = await netnsUnavailable();
  if (unavailable !== undefined) {
    say(`\n!!! SKIPPED partition scenarios (${names.join(', ')}): ${unavailable} !!!`);
    return [];
  }
  const pair = await createNetnsPair();
  const dir = mkdtempSync(join(tmpdir(), 'sk-partition-'));
  const file = join(dir, 'results.json');
  try {
    const [command = 'ip', ...prefix] = ['ip', 'netns', 'exec', pair.app];
    const args = [
      ...prefix,
      process.execPath,
      '--import',
      'tsx',
      'reliability/chaos.ts',
      '--only',
      names.join(','),
    ];
    const child = spawn(command, quick ? [...args, '--quick'] : args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, [NETNS_ENV]: JSON.stringify(pair), [RESULTS_ENV]: file },
    });
    await once(child, 'exit');
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return Array.isArray(parsed) ? parsed.filter(isResult) : [];
  } finally {
    pair.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

function isResult(value: unknown): value is ScenarioResult {
  return (
    typeof value === 'object' && value !== null && 'name' in value && 'passed' in value && 'byStatus' in value
  );
}
