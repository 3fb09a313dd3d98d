/**
 * The Memcached binary protocol operations the memcached store needs, sent through a memjs client.
 * memjs has no gets/cas API, so the requests are framed here and sent with memjs's `perform`, which
 * keeps memjs's server selection, connection handling, SASL, timeouts and failover.
 * Protocol: https://github.com/memcached/memcached/wiki/BinaryProtocolRevamped
 */
import { SessionStoreError } from '../../errors.js';

/** One binary-protocol response, as memjs passes it to `perform` callbacks. */
export interface MemcachedResponse {
  header: { status: number; cas: Buffer };
  val: Buffer;
}

/** The part of a memjs `Client` the memcached store uses (structural: any client with these fits). */
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

/** A stored value and the CAS token that a compare-and-set of it must present. */
export interface MemcachedItem {
  value: Buffer;
  cas: Buffer;
}

/** get / add / cas / delete on one memjs client. Failures reject with `SessionStoreError`. */
export interface MemcachedWire {
  get(key: string): Promise<MemcachedItem | null>;
  /**
   * Stores `value` with `add` (no `cas`: only if absent) or compare-and-set; false when the key
   * exists (add), changed or vanished since `cas` was read. Sent once, whatever memjs's retry setting:
   * a blind resend of a write that did land would report it as lost.
   */
  write(operation: string, key: string, value: Buffer, expiration: number, cas?: Buffer): Promise<boolean>;
  /**
   * Deletes `key`; with `cas`, only if it still holds that version (sent once, like a write). Resolves
   * false when the key was absent or (with `cas`) changed since it was read.
   */
  delete(key: string, cas?: Buffer): Promise<boolean>;
}

const OP_GET = 0x00;
const OP_SET = 0x01;
const OP_ADD = 0x02;
const OP_DELETE = 0x04;
const STATUS_OK = 0x00;
const STATUS_NOT_FOUND = 0x01;
const STATUS_EXISTS = 0x02;
const STATUS_NOT_STORED = 0x05;
const NO_CAS = Buffer.alloc(8);
const NOTHING = Buffer.alloc(0);

interface Request {
  code: number;
  key: string;
  cas?: Buffer | undefined;
  value?: Buffer;
  expiration?: number;
  retries?: number;
}

/** Binary-protocol operations over `client`. */
export function memcachedWire(client: MemcachedLike): MemcachedWire {
  function send(operation: string, request: Request, ...allowed: number[]): Promise<MemcachedResponse> {
    return new Promise((resolve, reject) => {
      client.incrSeq();
      // memjs keeps `seq` as a signed 32-bit int; the header's opaque (and its reply's) is unsigned.
      const seq = client.seq >>> 0;
      const callback = (error: Error | null, response: MemcachedResponse | null) => {
        if (!response)
          reject(new SessionStoreError('memcached', operation, { cause: error ?? 'no response' }));
        else if (response.header.status === STATUS_OK || allowed.includes(response.header.status))
          resolve(response);
        else reject(refused(operation, response.header.status));
      };
      client.perform(request.key, frame(request, seq), seq, callback, request.retries);
    });
  }

  return {
    async get(key) {
      const response = await send('get', { code: OP_GET, key }, STATUS_NOT_FOUND);
      if (response.header.status === STATUS_NOT_FOUND) return null;
      return { value: response.val, cas: Buffer.from(response.header.cas) };
    },
    async write(operation, key, value, expiration, cas) {
      const code = cas ? OP_SET : OP_ADD;
      const request = { code, key, cas, value, expiration, retries: 1 };
      const response = await send(operation, request, STATUS_EXISTS, STATUS_NOT_FOUND, STATUS_NOT_STORED);
      return response.header.status === STATUS_OK;
    },
    async delete(key, cas) {
      const request = cas ? { code: OP_DELETE, key, cas, retries: 1 } : { code: OP_DELETE, key };
      const response = await send('destroy', request, STATUS_NOT_FOUND, STATUS_EXISTS);
      return response.header.status === STATUS_OK;
    },
  };
}

function frame(request: Request, opaque: number): Buffer {
  const key = Buffer.from(request.key);
  const extras = Buffer.alloc(request.expiration === undefined ? 0 : 8);
  if (request.expiration !== undefined) extras.writeUInt32BE(request.expiration, 4);
  const value = request.value ?? NOTHING;
  const body = extras.length + key.length + value.length;
  const buffer = Buffer.alloc(24 + body);
  buffer.writeUInt8(0x80, 0);
  buffer.writeUInt8(request.code, 1);
  buffer.writeUInt16BE(key.length, 2);
  buffer.writeUInt8(extras.length, 4);
  buffer.writeUInt32BE(body, 8);
  buffer.writeUInt32BE(opaque, 12);
  (request.cas ?? NO_CAS).copy(buffer, 16);
  extras.copy(buffer, 24);
  key.copy(buffer, 24 + extras.length);
  value.copy(buffer, 24 + extras.length + key.length);
  return buffer;
}

function refused(operation: string, status: number): SessionStoreError {
  return new SessionStoreError('memcached', operation, {
    message: `sessionkit: memcached refused ${operation} with status 0x${status.toString(16)}`,
  });
}
