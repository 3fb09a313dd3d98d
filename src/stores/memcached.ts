/**
 * A Memcached session store: one JSON record per key, patches as gets → apply → cas with retry.
 *
 * memjs (the driver) has no gets/cas API, so the store frames the binary-protocol requests itself
 * and sends them through memjs's `perform`, which keeps memjs's server selection, connection
 * handling, SASL, timeouts and failover. Memcached cannot index by user (no `listByUser`) and
 * evicts under memory pressure: put it in front of a durable store with `createTieredStore`.
 *
 * @module
 */
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { randomString } from '../core/crypto.js';
import { publish } from '../core/diagnostics.js';
import { SessionConfigError, SessionStoreError } from '../errors.js';
import type { PatchResult, SessionPatch, SessionRecord, SessionStore } from './types.js';

/** One binary-protocol response, as memjs passes it to `perform` callbacks. */
export interface MemcachedResponse {
  header: { status: number; cas: Buffer };
  val: Buffer;
}

/** The part of a memjs `Client` the store uses (a structural contract: any client with these fits). */
export interface MemcachedLike {
  /** Sequence number of the last request (memjs: the request's `opaque`). */
  readonly seq: number;
  /** Advances `seq`. */
  incrSeq(): void;
  /** Sends one framed request to the server owning `key` and calls back with its response. */
  perform(
    key: string,
    request: Buffer,
    seq: number,
    callback: (error: Error | null, response: MemcachedResponse | null) => void,
    retries?: number,
  ): void;
}

/** Options of `createMemcachedStore`. */
export interface MemcachedStoreOptions {
  /**
   * Prefix of every memcached key (memcached keys are at most 250 bytes, without spaces).
   * @default "sk:"
   */
  keyPrefix?: string;
  /** Time source for TTLs. @default the system clock */
  clock?: Clock;
  /**
   * How many times a patch retries after losing a compare-and-set before it rejects.
   * Concurrent writes to one key from the same store instance queue up instead, so only writers in
   * other processes race.
   * @default 20
   */
  maxCasAttempts?: number;
}

const OP_GET = 0x00;
const OP_SET = 0x01;
const OP_ADD = 0x02;
const OP_DELETE = 0x04;
const STATUS_OK = 0x00;
const STATUS_NOT_FOUND = 0x01;
const STATUS_EXISTS = 0x02;
const STATUS_NOT_STORED = 0x05;
// Memcached reads an expiration above 30 days as an absolute Unix time (SEC-46).
const MAX_RELATIVE_SECONDS = 2_592_000;
const KEY_PREFIX_PATTERN = /^[\x21-\x7e]{0,200}$/;
const NO_CAS = Buffer.alloc(8);

/**
 * Creates a session store on a memjs client (`memjs.Client.create('127.0.0.1:11211')`).
 * @example
 * const store = createMemcachedStore(memjs.Client.create(process.env.MEMCACHED_URL), { keyPrefix: 'app:' });
 */
export function createMemcachedStore(
  client: MemcachedLike,
  options: MemcachedStoreOptions = {},
): SessionStore {
  const keyPrefix = options.keyPrefix ?? 'sk:';
  if (!KEY_PREFIX_PATTERN.test(keyPrefix)) {
    throw new SessionConfigError('keyPrefix', 'use at most 200 printable ASCII characters without spaces');
  }
  const maxCasAttempts = options.maxCasAttempts ?? 20;
  if (!Number.isSafeInteger(maxCasAttempts) || maxCasAttempts < 1) {
    throw new SessionConfigError('maxCasAttempts', 'must be a positive integer');
  }
  const clock = options.clock ?? systemClock;
  const queues = new Map<string, Promise<unknown>>();

  // Writers of one key in this process take turns: racing them through CAS would make n concurrent
  // patches cost O(n²) round trips, and a busy session would exhaust its attempts.
  function inTurn<T>(key: string, run: () => Promise<T>): Promise<T> {
    const result = (queues.get(key) ?? Promise.resolve()).then(run, run);
    const tail = result.then(settled, settled);
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return result;
  }

  function send(operation: string, op: Op): Promise<MemcachedResponse> {
    return new Promise((resolve, reject) => {
      client.incrSeq();
      // memjs keeps `seq` as a signed 32-bit int; the header's opaque (and its reply) is unsigned.
      const seq = client.seq >>> 0;
      const request = frame(op, seq);
      client.perform(
        op.key,
        request,
        seq,
        (error, response) => {
          if (response) resolve(response);
          else reject(new SessionStoreError('memcached', operation, { cause: error ?? 'no response' }));
        },
        op.retries,
      );
    });
  }

  async function read(key: string): Promise<{ record: SessionRecord | null; cas: Buffer } | null> {
    const response = expect(
      'get',
      await send('get', { code: OP_GET, key: keyPrefix + key }),
      STATUS_NOT_FOUND,
    );
    if (response.header.status === STATUS_NOT_FOUND) return null;
    return { record: decode(response.val), cas: Buffer.from(response.header.cas) };
  }

  /** Stores `record` with add (no `cas`) or cas; false when another writer got there first. */
  async function write(
    operation: string,
    key: string,
    record: SessionRecord,
    cas?: Buffer,
  ): Promise<boolean> {
    const response = await send(operation, {
      code: cas ? OP_SET : OP_ADD,
      key: keyPrefix + key,
      cas,
      value: Buffer.from(JSON.stringify({ version: record.version, data: record.data, meta: record.meta })),
      expiration: expiration(record.meta.expiresAt, clock.now()),
      // A write is sent once: memjs's blind resend of a CAS that did land would then count as lost.
      retries: 1,
    });
    return (
      expect(operation, response, STATUS_EXISTS, STATUS_NOT_FOUND, STATUS_NOT_STORED).header.status === 0
    );
  }

  return {
    kind: 'memcached',

    async get(key) {
      return (await read(key))?.record ?? null;
    },

    set(key, record) {
      return inTurn(key, async () => {
        for (let attempt = 1; attempt <= maxCasAttempts; attempt++) {
          if (await write('set', key, record)) return;
          const stored = await read(key);
          if (stored?.record && stored.record.version >= record.version) return;
          if (stored && (await write('set', key, record, stored.cas))) return;
          await backoff(attempt);
        }
        throw casExhausted('set', maxCasAttempts);
      });
    },

    patch(key, patch) {
      return inTurn(key, async (): Promise<PatchResult> => {
        for (let attempt = 1; attempt <= maxCasAttempts; attempt++) {
          const stored = await read(key);
          if (!stored?.record || stored.record.meta.successor) return { status: 'missing' };
          if (patch.ifVersion !== undefined && stored.record.version !== patch.ifVersion) {
            return { status: 'conflict' };
          }
          const record = applyPatch(stored.record, patch);
          if (await write('patch', key, record, stored.cas)) return { status: 'ok', record };
          await backoff(attempt);
        }
        throw casExhausted('patch', maxCasAttempts);
      });
    },

    async destroy(key) {
      expect('destroy', await send('destroy', { code: OP_DELETE, key: keyPrefix + key }), STATUS_NOT_FOUND);
    },
  };
}

interface Op {
  code: number;
  key: string;
  cas?: Buffer | undefined;
  value?: Buffer;
  expiration?: number;
  retries?: number;
}

/** A binary-protocol request (https://github.com/memcached/memcached/wiki/BinaryProtocolRevamped). */
function frame(op: Op, opaque: number): Buffer {
  const key = Buffer.from(op.key);
  const extras = Buffer.alloc(op.expiration === undefined ? 0 : 8);
  if (op.expiration !== undefined) extras.writeUInt32BE(op.expiration, 4);
  const value = op.value ?? Buffer.alloc(0);
  const body = extras.length + key.length + value.length;
  const request = Buffer.alloc(24 + body);
  request.writeUInt8(0x80, 0);
  request.writeUInt8(op.code, 1);
  request.writeUInt16BE(key.length, 2);
  request.writeUInt8(extras.length, 4);
  request.writeUInt32BE(body, 8);
  request.writeUInt32BE(opaque, 12);
  (op.cas ?? NO_CAS).copy(request, 16);
  extras.copy(request, 24);
  key.copy(request, 24 + extras.length);
  value.copy(request, 24 + extras.length + key.length);
  return request;
}

/** Returns `response` when its status is OK or one of `allowed`; rejects on anything else. */
function expect(operation: string, response: MemcachedResponse, ...allowed: number[]): MemcachedResponse {
  const status = response.header.status;
  if (status === STATUS_OK || allowed.includes(status)) return response;
  throw new SessionStoreError('memcached', operation, {
    message: `sessionkit: memcached refused ${operation} with status 0x${status.toString(16)}`,
  });
}

/** The item expiration for a record that may be dropped at `expiresAt` (never 0 = "keep forever"). */
function expiration(expiresAt: number, now: number): number {
  const seconds = Math.max(1, Math.ceil((expiresAt - now) / 1000));
  return seconds > MAX_RELATIVE_SECONDS ? Math.ceil(expiresAt / 1000) : seconds;
}

function decode(value: Buffer): SessionRecord | null {
  try {
    const parsed: unknown = JSON.parse(value.toString('utf8'));
    if (isRecord(parsed)) return parsed;
  } catch {
    // Reported below like any other undecodable value.
  }
  publish({ type: 'decode-error', store: 'memcached' });
  return null;
}

function isRecord(value: unknown): value is SessionRecord {
  if (!isObject(value) || !Number.isSafeInteger(value.version) || !isObject(value.data)) return false;
  const meta = value.meta;
  return isObject(meta) && typeof meta.expiresAt === 'number' && typeof meta.createdAt === 'number';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function applyPatch(record: SessionRecord, patch: SessionPatch): SessionRecord {
  const removed = new Set([...patch.delete, ...Object.keys(patch.set)]);
  const kept = Object.entries(record.data).filter(([name]) => !removed.has(name));
  // fromEntries defines own properties, so a "__proto__" session key stays a plain key.
  const data = Object.fromEntries([...kept, ...Object.entries(patch.set)]);
  return { data, version: record.version + 1, meta: patch.meta };
}

/** Waits a random 0…2^attempt ms (capped at 100 ms) so that writers racing on one key spread out. */
function backoff(attempt: number): Promise<void> {
  // Jitter from the CSPRNG helper: src/ never uses Math.random (SEC-1 static check).
  const fraction = Buffer.from(randomString(2), 'base64url').readUInt16BE(0) / 65_536;
  const ms = fraction * Math.min(100, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function settled(): void {}

function casExhausted(operation: string, attempts: number): SessionStoreError {
  return new SessionStoreError('memcached', operation, {
    message: `sessionkit: the memcached store lost ${attempts} compare-and-set attempts in a row during ${operation} (too many concurrent writes to one session)`,
  });
}
