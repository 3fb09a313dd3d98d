/**
 * The Redis store's `waitForReplicas` option: after each session write, `WAIT numreplicas timeout` on
 * the connection (and so the node) that took the write, so that an acknowledged write is on at least
 * N replicas and survives the promotion of one of them. Internal to `sessionkit/stores/redis`.
 */
import { publish } from '../../core/diagnostics.js';
import { SessionConfigError, SessionStoreError } from '../../errors.js';
import type { RedisLike } from '../redis.js';

/** What a write does when fewer replicas than asked acknowledge it within the timeout. */
export type ReplicaShortfallPolicy = 'fail' | 'accept';

/** The `waitForReplicas` option of `createRedisStore`. */
export interface WaitForReplicasOptions {
  /** Replicas that must acknowledge each write (`WAIT numreplicas`), at least 1. */
  replicas: number;
  /** Milliseconds `WAIT` may block (`WAIT … timeout`), at least 1. @default 500 */
  timeoutMs?: number;
  /**
   * Fewer replicas answered in time: `'fail'` rejects the write with `ERR_SESSION_STORE` (503; the
   * write may still be on the master and may or may not survive a failover); `'accept'` acknowledges
   * it and publishes a `replica-shortfall` event (it may be lost in a failover). @default 'fail'
   */
  onShortfall?: ReplicaShortfallPolicy;
}

/** The pipeline of an ioredis `Redis` or `Cluster`: commands sent together to one node, in order. */
export interface IoRedisPipelineLike {
  call(command: string, ...args: string[]): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** Sends one command. */
export type Send = (command: string, ...args: string[]) => Promise<unknown>;

/** Sends a write and then `WAIT` on the same connection, resolving the write's reply. */
export type SendAndWait = (operation: string, command: string, args: string[]) => Promise<unknown>;

interface Resolved {
  replicas: number;
  timeoutMs: number;
  onShortfall: ReplicaShortfallPolicy;
}

function resolve(options: WaitForReplicasOptions): Resolved {
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError('waitForReplicas', 'must be an object such as { replicas: 1 }');
  }
  const { replicas, timeoutMs = 500, onShortfall = 'fail' } = options;
  if (!Number.isSafeInteger(replicas) || replicas < 1) {
    throw new SessionConfigError('waitForReplicas.replicas', 'must be an integer of at least 1');
  }
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    throw new SessionConfigError('waitForReplicas.timeoutMs', 'must be an integer of at least 1');
  }
  if (onShortfall !== 'fail' && onShortfall !== 'accept') {
    throw new SessionConfigError('waitForReplicas.onShortfall', "must be 'fail' or 'accept'");
  }
  return { replicas, timeoutMs, onShortfall };
}

/**
 * An ioredis `Redis` that resends unanswered commands after a reconnect could send a lone `WAIT` to a
 * newly promoted master, where it counts that master's replicas for a write it never saw.
 */
function checkResend(client: object): void {
  if (!('options' in client) || typeof client.options !== 'object' || client.options === null) return;
  const options = client.options;
  if ('autoResendUnfulfilledCommands' in options && options.autoResendUnfulfilledCommands !== false) {
    throw new SessionConfigError(
      'waitForReplicas',
      'needs an ioredis client created with autoResendUnfulfilledCommands: false (a WAIT resent after a ' +
        'reconnect may reach another master and confirm a write it never saw)',
    );
  }
}

function pipelineOf(client: RedisLike): (() => IoRedisPipelineLike) | undefined {
  if (!('call' in client) || client.pipeline === undefined) return undefined;
  return client.pipeline.bind(client);
}

/**
 * Builds the write path for `waitForReplicas`. With an ioredis client the write and `WAIT` go in one
 * pipeline: a Cluster sends a pipeline to the node that owns its keys' slot (`WAIT` has no key and
 * rides along), so `WAIT` reaches the node that took the write, on the same connection, right after
 * it. A node-redis client sends both on its one connection, in order.
 */
export function replicaWaiter(client: RedisLike, send: Send, options: WaitForReplicasOptions): SendAndWait {
  const settings = resolve(options);
  checkResend(client);
  const pipeline = pipelineOf(client);
  const waitArgs = [String(settings.replicas), String(settings.timeoutMs)];

  const judge = (operation: string, acknowledged: unknown) => {
    const count = typeof acknowledged === 'number' ? acknowledged : Number(acknowledged);
    if (count >= settings.replicas) return;
    const detail = { operation, replicas: count, wanted: settings.replicas, timeoutMs: settings.timeoutMs };
    if (settings.onShortfall === 'accept') {
      publish({ type: 'replica-shortfall', store: 'redis', detail });
      return;
    }
    throw new SessionStoreError('redis', operation, {
      message:
        `sessionkit: ${Number.isNaN(count) ? 'no' : count} of ${settings.replicas} Redis replicas ` +
        `acknowledged the ${operation} within ${settings.timeoutMs} ms`,
    });
  };

  if (pipeline === undefined) {
    return async (operation, command, args) => {
      const reply = await send(command, ...args);
      judge(operation, await send('WAIT', ...waitArgs));
      return reply;
    };
  }
  return async (operation, command, args) => {
    const batch = pipeline();
    batch.call(command, ...args);
    batch.call('WAIT', ...waitArgs);
    const results = await batch.exec();
    const [write, wait] = results ?? [];
    if (write === undefined || wait === undefined) throw new Error('the Redis pipeline was discarded');
    if (write[0] !== null) throw write[0];
    if (wait[0] !== null) throw wait[0];
    judge(operation, wait[1]);
    return write[1];
  };
}
