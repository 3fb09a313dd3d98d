/**
 * Public entry `sessionkit/stores/redis`: a store in Redis or Valkey, standalone or Cluster, through
 * ioredis or node-redis. One hash per session (a field per data key), patched by a Lua script in one
 * round trip; every write sets a TTL (SEC-46). Redis is durable only with AOF and `noeviction` (SEC-47).
 *
 * @module
 */
import { type Clock, resolveClock } from '../core/clock.js';
import { sha1Hex } from '../core/crypto.js';
import { flag } from '../core/options.js';
import { SessionConfigError } from '../errors.js';
import { encodeMeta, reported } from './internal/record-codec.js';
import { dataField, dataFields, decodeHash, pairs, parseMeta, strings } from './internal/redis-codec.js';
import {
  type IoRedisPipelineLike,
  replicaWaiter,
  type WaitForReplicasOptions,
} from './internal/redis-replicas.js';
import type { PatchResult, SessionEntry, SessionMeta, SessionStore } from './types.js';

/** An ioredis `Redis` or `Cluster`: the store sends every command through its generic `call`. */
export interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
  /** Used only by `waitForReplicas`: the write and its `WAIT` go to one node in one pipeline. */
  pipeline?(): IoRedisPipelineLike;
}

/** A node-redis client (v4 to v6): the store sends every command through its generic `sendCommand`. */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * The client contract: either shape, told apart at construction by whether the client has `call`
 * (ioredis) or only `sendCommand` (node-redis). A node-redis Cluster does not fit; use ioredis's `Cluster`.
 */
export type RedisLike = IoRedisLike | NodeRedisLike;

/** Options of `createRedisStore`. */
export interface RedisStoreOptions {
  /** Prefix of every key: `<prefix>s:<key>` for sessions, `<prefix>u:<userId>` for user indexes. @default "sk:" */
  keyPrefix?: string;
  /** Time source for TTLs. @default the system clock */
  clock?: Clock;
  /**
   * At its first command, read `maxmemory-policy` once and warn (`SESSIONKIT_REDIS_EVICTION`) when
   * Redis may evict sessions (`allkeys-*`, `volatile-*`). @default true
   */
  checkEvictionPolicy?: boolean;
  /**
   * Durable acknowledgement: after each session write (`set`, `patch`, `destroy`, `destroyByUser`),
   * `WAIT` until this many replicas have it, so that it survives a failover. Reads stay one command;
   * the per-user index is not waited for. See docs/reliability.md. @default off
   */
  waitForReplicas?: WaitForReplicasOptions;
}

export type {
  IoRedisPipelineLike,
  ReplicaShortfallPolicy,
  WaitForReplicasOptions,
} from './internal/redis-replicas.js';

/** The Redis store: a `SessionStore` with a best-effort per-user index. */
export interface RedisStore extends SessionStore {
  readonly kind: 'redis';
  listByUser(userId: string): Promise<SessionEntry[]>;
  destroyByUser(userId: string, exceptKey?: string): Promise<number>;
}

// ARGV of SET and PATCH: version (SET) or ifVersion (PATCH), meta, TTL ms, userId, has userId, successor
// key ('' for none), then SET: data field/value pairs; PATCH: the number of pairs, the pairs, the data
// fields to delete. Hash fields: v = version, m = meta JSON, u = userId, s = the successor's key when
// rotated or regenerated out (its own field, so that DESTROY needs no JSON parsing), and per data key
// d:<key as a JSON string> = its value as JSON, so that the client joins the record's JSON unparsed.
// Every script touches exactly one key, the session's (one hash slot in a Cluster).
// Redis refuses a script's write for OOM only if the script has not written yet (then it must run to
// the end), so each script's first write is one that Redis may refuse: a full memory rejects, never
// half-applies.
const SET = `local stored = redis.call('HGET', KEYS[1], 'v')
if stored and tonumber(stored) >= tonumber(ARGV[1]) then return {0} end
local user = redis.call('HGET', KEYS[1], 'u')
redis.call('HSET', KEYS[1], 'v', ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'm', ARGV[2])
if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'u', ARGV[4]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 's', ARGV[6]) end
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, user}`;

// A rotated-out record (field s) is never patched; the reply carries the new hash, read in the same step.
const PATCH = `local cur = redis.call('HMGET', KEYS[1], 'v', 's', 'u', 'm')
if not cur[1] or cur[2] then return {0} end
if ARGV[1] ~= '' and cur[1] ~= ARGV[1] then return {-1} end
redis.call('HSET', KEYS[1], 'm', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'v', 1)
if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'u', ARGV[4]) else redis.call('HDEL', KEYS[1], 'u') end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 's', ARGV[6]) end
local last = 7 + 2 * tonumber(ARGV[7])
for i = 8, last, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = last + 1, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, cur[3], cur[4], redis.call('HGETALL', KEYS[1])}`;

// Reads the successor and deletes in one step: a rotation's patch either ran before (we return its
// successor) or runs after (it finds the key missing and creates nothing). DEL is never refused for OOM.
const DESTROY = `local got = redis.call('HMGET', KEYS[1], 'u', 's')
redis.call('DEL', KEYS[1])
return got`;

const DESTROY_IF_USER = `local user = redis.call('HGET', KEYS[1], 'u')
if not user then return 0 end
if user ~= ARGV[1] then return -1 end
return redis.call('DEL', KEYS[1])`;

const INDEX = `redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

const EVICTION_WARNING = 'SESSIONKIT_REDIS_EVICTION';
let warnedEviction = false;

/** SHA-1 of each script, computed once (EVALSHA). */
const shas = new Map<string, string>();
function scriptSha(script: string): string {
  let sha = shas.get(script);
  if (sha === undefined) {
    sha = sha1Hex(script);
    shas.set(script, sha);
  }
  return sha;
}

/**
 * Creates a Redis store on a connected ioredis (`Redis` or `Cluster`) or node-redis client, which the
 * store never closes. The per-user index is a set per user, kept in a second command (in a Cluster it
 * lives in another slot): best-effort, and entries of sessions that are gone are dropped on read.
 * @example
 * const store = createRedisStore(new Redis(process.env.REDIS_URL), { keyPrefix: 'shop:' });
 */
export function createRedisStore(client: RedisLike, options: RedisStoreOptions = {}): RedisStore {
  const send = commandSender(client);
  const prefix = options.keyPrefix ?? 'sk:';
  if (typeof prefix !== 'string') throw new SessionConfigError('keyPrefix', 'must be a string');
  const clock = resolveClock(options.clock);
  let checked = !flag('checkEvictionPolicy', options.checkEvictionPolicy, true);
  let checking: Promise<void> | undefined;
  // At the first command rather than at construction: a node-redis client may not be connected yet.
  const checkOnce = () => {
    checking ??= checkEviction(send).then(() => {
      checked = true;
    });
    return checking;
  };

  const sessionKey = (key: string) => `${prefix}s:${key}`;
  const userKey = (userId: string) => `${prefix}u:${userId}`;
  const ttl = (at: number) => String(Math.max(1, Math.ceil(at - clock.now())));
  const waitFor = options.waitForReplicas;
  const sendAndWait = waitFor === undefined ? undefined : replicaWaiter(client, send, waitFor);
  /** Runs a script; a session write (`write` names it) also waits for replicas when asked to. */
  const run = async (script: string, key: string, args: string[], write?: string): Promise<unknown> => {
    if (!checked) await checkOnce();
    const exec = (command: string, ...rest: string[]) =>
      write === undefined || sendAndWait === undefined
        ? send(command, ...rest)
        : sendAndWait(write, command, rest);
    // EVALSHA saves sending the script text on every call; a server (or Cluster node) that has not
    // seen the script yet answers NOSCRIPT once, and EVAL loads it there.
    try {
      return await exec('EVALSHA', scriptSha(script), '1', key, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return exec('EVAL', script, '1', key, ...args);
    }
  };
  const metaArgs = (meta: SessionMeta): string[] => {
    const user = meta.userId === undefined ? ['', '0'] : [meta.userId, '1'];
    return [encodeMeta(meta), ttl(meta.expiresAt), ...user, meta.successor?.key ?? ''];
  };
  /** Moves `key` from the old user's index to the new one's, as far as they differ. */
  const reindex = async (key: string, before: unknown, meta: SessionMeta, extend: boolean) => {
    const tasks: Promise<unknown>[] = [];
    if (typeof before === 'string' && before !== meta.userId) tasks.push(send('SREM', userKey(before), key));
    if (meta.userId !== undefined && (extend || before !== meta.userId)) {
      tasks.push(run(INDEX, userKey(meta.userId), [key, ttl(indexDeadline(meta))]));
    }
    await Promise.all(tasks);
  };

  return {
    kind: 'redis',
    // One command executed on the server (no script around it): the client joins the fields.
    async get(key) {
      if (!checked) await checkOnce();
      return reported('redis', decodeHash(await send('HGETALL', sessionKey(key))));
    },
    async set(key, record) {
      const args = [String(record.version), ...metaArgs(record.meta), ...dataFields(record.data)];
      const reply = await run(SET, sessionKey(key), args, 'set');
      if (Array.isArray(reply) && reply[0] === 1) await reindex(key, reply[1], record.meta, true);
    },
    async patch(key, patch): Promise<PatchResult> {
      const fields = dataFields(patch.set);
      const args = [String(patch.ifVersion ?? ''), ...metaArgs(patch.meta), String(fields.length / 2)];
      const reply = await run(
        PATCH,
        sessionKey(key),
        [...args, ...fields, ...patch.delete.map(dataField)],
        'patch',
      );
      if (!Array.isArray(reply) || reply[0] === 0) return { status: 'missing' };
      if (reply[0] === -1) return { status: 'conflict' };
      const record = reported('redis', decodeHash(reply[3]));
      if (!record) return { status: 'missing' };
      const extend = indexDeadline(patch.meta) > indexDeadline(parseMeta(reply[2]));
      await reindex(key, reply[1], patch.meta, extend);
      return { status: 'ok', record };
    },
    async destroy(key) {
      const reply = await run(DESTROY, sessionKey(key), [], 'destroy');
      const [user, successor]: unknown[] = Array.isArray(reply) ? reply : [];
      // Best effort and not awaited (logout stays one round trip): listByUser drops entries of gone keys.
      if (typeof user === 'string') send('SREM', userKey(user), key).catch(ignore);
      return { successor: typeof successor === 'string' ? successor : null };
    },
    async listByUser(userId) {
      if (!checked) await checkOnce();
      const keys = strings(await send('SMEMBERS', userKey(userId)));
      const metas = await Promise.all(keys.map((key) => send('HGET', sessionKey(key), 'm')));
      const entries: SessionEntry[] = [];
      const gone: string[] = [];
      keys.forEach((key, i) => {
        const meta = metas[i];
        if (typeof meta !== 'string') gone.push(key);
        else {
          const decoded = parseMeta(meta);
          // A session whose user changed may linger here until its old user's index is cleaned.
          if (decoded?.userId === userId) entries.push({ key, meta: decoded });
        }
      });
      if (gone.length > 0) await send('SREM', userKey(userId), ...gone);
      return entries;
    },
    async destroyByUser(userId, exceptKey) {
      if (!checked) await checkOnce();
      const keys = strings(await send('SMEMBERS', userKey(userId))).filter((key) => key !== exceptKey);
      const results = await Promise.all(
        keys.map((key) => run(DESTROY_IF_USER, sessionKey(key), [userId], 'destroyByUser')),
      );
      const gone = keys.filter((_, i) => results[i] !== -1);
      if (gone.length > 0) await send('SREM', userKey(userId), ...gone);
      return results.filter((result) => result === 1).length;
    },
  };
}

type Send = (command: string, ...args: string[]) => Promise<unknown>;

function commandSender(client: RedisLike): Send {
  if (typeof client !== 'object' || client === null) {
    throw new SessionConfigError('client', 'must be an ioredis or node-redis client');
  }
  if ('call' in client && typeof client.call === 'function') {
    return (command, ...args) => client.call(command, ...args);
  }
  if ('sendCommand' in client && typeof client.sendCommand === 'function') {
    return (command, ...args) => client.sendCommand([command, ...args]);
  }
  throw new SessionConfigError(
    'client',
    'must be an ioredis client (call) or a node-redis client (sendCommand)',
  );
}

/** SEC-47: session keys carry TTLs, so any eviction policy but `noeviction` may drop live sessions. */
async function checkEviction(send: Send): Promise<void> {
  try {
    const policy = pairs(await send('CONFIG', 'GET', 'maxmemory-policy')).get('maxmemory-policy') ?? '';
    if (warnedEviction || !/^(allkeys|volatile)-/.test(policy)) return;
    warnedEviction = true;
    process.emitWarning(
      `sessionkit: Redis maxmemory-policy is "${policy}", so Redis may evict live sessions (logging users ` +
        'out). Use an instance with maxmemory-policy noeviction and appendonly yes for sessions.',
      { code: EVICTION_WARNING },
    );
  } catch {
    // CONFIG is often disabled (managed Redis, rename-command): the check is advisory.
  }
}

/** The latest moment the user index must outlive: the session cannot outlive either expiry. */
function indexDeadline(meta: SessionMeta | null): number {
  return meta ? Math.max(meta.expiresAt, meta.absoluteExpiresAt) : 0;
}

function ignore(): void {}
