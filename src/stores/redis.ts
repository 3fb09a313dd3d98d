/**
 * Public entry `sessionkit/stores/redis`: a store in Redis or Valkey, standalone or Cluster, through
 * ioredis or node-redis. One hash per session (a field per data key), patched by a Lua script in one
 * round trip; every write sets a TTL (SEC-46). Redis is durable only with AOF and `noeviction` (SEC-47).
 *
 * @module
 */
import { type Clock, systemClock } from '../core/clock.js';
import { sha1Hex } from '../core/crypto.js';
import { publish } from '../core/diagnostics.js';
import { flag } from '../core/options.js';
import { SessionConfigError } from '../errors.js';
import {
  type IoRedisPipelineLike,
  replicaWaiter,
  type WaitForReplicasOptions,
} from './internal/redis-replicas.js';
import type {
  PatchResult,
  SessionData,
  SessionEntry,
  SessionMeta,
  SessionRecord,
  SessionStore,
} from './types.js';

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

// ARGV of SET and PATCH: version (SET) or ifVersion (PATCH), meta, TTL ms, userId, has userId, rotated,
// then SET: data field/value pairs; PATCH: the number of pairs, the pairs, the data fields to delete.
// Hash fields: v = version, m = meta JSON, u = userId, s = "1" when rotated out, and per data key
// d:<key as a JSON string> = its value as JSON, so that Lua can join the record's JSON without encoding.
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
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 's', '1') end
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, user}`;

// The record as one JSON text: a client parses one string far faster than a reply of 2n bulk strings.
const RECORD_JSON = `local function record_json(key)
  local all = redis.call('HGETALL', key)
  if #all == 0 then return false end
  local data, meta, version = {}, 'null', 'null'
  for i = 1, #all, 2 do
    local field = all[i]
    if string.sub(field, 1, 2) == 'd:' then
      data[#data + 1] = string.sub(field, 3) .. ':' .. all[i + 1]
    elseif field == 'm' then meta = all[i + 1]
    elseif field == 'v' then version = all[i + 1] end
  end
  return '{"v":' .. version .. ',"m":' .. meta .. ',"d":{' .. table.concat(data, ',') .. '}}'
end
`;

const PATCH = `${RECORD_JSON}local cur = redis.call('HMGET', KEYS[1], 'v', 's', 'u', 'm')
if not cur[1] or cur[2] then return {0} end
if ARGV[1] ~= '' and cur[1] ~= ARGV[1] then return {-1} end
redis.call('HSET', KEYS[1], 'm', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'v', 1)
if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'u', ARGV[4]) else redis.call('HDEL', KEYS[1], 'u') end
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 's', '1') end
local last = 7 + 2 * tonumber(ARGV[7])
for i = 8, last, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = last + 1, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, cur[3], cur[4], record_json(KEYS[1])}`;

const GET = `${RECORD_JSON}return record_json(KEYS[1])`;

const DESTROY = `local user = redis.call('HGET', KEYS[1], 'u')
redis.call('DEL', KEYS[1])
return user`;

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
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== 'function') throw new SessionConfigError('clock', 'must have a now() method');
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
    return [JSON.stringify(meta), ttl(meta.expiresAt), ...user, meta.successor ? '1' : '0'];
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
    async get(key) {
      const reply = await run(GET, sessionKey(key), []);
      return reply === null ? null : decodeJson(reply);
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
      const record = decodeJson(reply[3]);
      if (!record) return { status: 'missing' };
      const extend = indexDeadline(patch.meta) > indexDeadline(parseMeta(reply[2]));
      await reindex(key, reply[1], patch.meta, extend);
      return { status: 'ok', record };
    },
    async destroy(key) {
      const user = await run(DESTROY, sessionKey(key), [], 'destroy');
      if (typeof user === 'string') await send('SREM', userKey(user), key);
      // TODO(stores helper): return the successor read atomically by the DESTROY script (issue 11).
      return { successor: null };
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

const dataField = (name: string) => `d:${JSON.stringify(name)}`;
const dataFields = (data: SessionData) =>
  Object.entries(data).flatMap(([name, value]) => [dataField(name), JSON.stringify(value)]);

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

/** A reply of field/value pairs: a flat array (RESP2), or an object or Map (RESP3, ioredis transforms). */
function pairs(reply: unknown): Map<string, string> {
  const map = new Map<string, string>();
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const [name, value] = [reply[i], reply[i + 1]];
      if (typeof name === 'string' && typeof value === 'string') map.set(name, value);
    }
  } else if (reply instanceof Map) {
    for (const [name, value] of reply) {
      if (typeof name === 'string' && typeof value === 'string') map.set(name, value);
    }
  } else if (typeof reply === 'object' && reply !== null) {
    for (const [name, value] of Object.entries(reply)) if (typeof value === 'string') map.set(name, value);
  }
  return map;
}

function strings(reply: unknown): string[] {
  const list = reply instanceof Set ? [...reply] : Array.isArray(reply) ? reply : [];
  return list.filter((item) => typeof item === 'string');
}

/** The record `record_json` built in Lua; `null` when undecodable (reported as `decode-error`). */
function decodeJson(reply: unknown): SessionRecord | null {
  try {
    const parsed: unknown = typeof reply === 'string' ? JSON.parse(reply) : null;
    if (typeof parsed === 'object' && parsed !== null && 'v' in parsed && 'm' in parsed && 'd' in parsed) {
      const { v: version, m: meta, d: data } = parsed;
      if (typeof version === 'number' && Number.isSafeInteger(version) && isMeta(meta) && isData(data)) {
        return { data, version, meta };
      }
    }
  } catch {
    // Reported below like any other undecodable record.
  }
  publish({ type: 'decode-error', store: 'redis' });
  return null;
}

function parseMeta(value: unknown): SessionMeta | null {
  if (typeof value !== 'string') return null;
  try {
    const meta: unknown = JSON.parse(value);
    return isMeta(meta) ? meta : null;
  } catch {
    return null;
  }
}

function isData(value: unknown): value is SessionData {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMeta(value: unknown): value is SessionMeta {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const meta: Partial<Record<keyof SessionMeta, unknown>> = value;
  return (
    typeof meta.createdAt === 'number' &&
    typeof meta.lastSeenAt === 'number' &&
    typeof meta.idleExpiresAt === 'number' &&
    typeof meta.absoluteExpiresAt === 'number' &&
    typeof meta.expiresAt === 'number' &&
    (meta.userId === undefined || typeof meta.userId === 'string')
  );
}
