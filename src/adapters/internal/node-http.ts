/**
 * What the adapters for node-style responses (node:http, Express, Koa, Fastify) share: request info from an
 * `IncomingMessage`, appending `Set-Cookie`, and holding `res.end` until the commit has landed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInfo, Session, SessionDataShape, SessionManager } from '../../core/types.js';
import { SessionError } from '../../errors.js';

/** What the manager needs to know about a node request besides its cookies. */
export function requestInfo(req: IncomingMessage): RequestInfo {
  const socket = req.socket;
  const forwarded = req.headers['x-forwarded-proto'];
  return {
    protocol: 'encrypted' in socket && socket.encrypted === true ? 'https' : 'http',
    forwardedProto: Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
    userAgent: req.headers['user-agent'],
    ip: socket.remoteAddress,
    host: req.headers.host,
  };
}

const NO_STORE = /\bno-store\b/i;

/** The HTTP status an adapter answers for `error` when the app does not handle it. */
export function statusOf(error: unknown): number {
  return error instanceof SessionError ? error.status : 500;
}

/**
 * Appends session `Set-Cookie` values after the app's own (never replacing them) and makes the
 * response uncacheable: a shared cache must never replay a session cookie (SEC-16).
 */
export function appendSessionCookies(res: ServerResponse, cookies: readonly string[]): void {
  if (cookies.length === 0) return;
  const existing = res.getHeader('set-cookie');
  const own = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('set-cookie', [...own, ...cookies]);
  const cacheControl = res.getHeader('cache-control');
  if (typeof cacheControl !== 'string' || !NO_STORE.test(cacheControl)) {
    res.setHeader('cache-control', 'no-store');
  }
}

/**
 * Gives up on a response because of `error`: when its headers are out, the socket is destroyed
 * (the client must not take a truncated response for success); otherwise the headers the app set
 * are dropped (its cookies, redirect, caching) and `route` answers.
 */
export function failResponse(res: ServerResponse, error: unknown, route: (error: unknown) => void): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = 200;
  res.statusMessage = '';
  route(error);
}

/** Control over a response whose end waits for the session commit. */
export interface HeldResponse {
  /** The handler has returned: a held `end` may now commit and finish. */
  release(): void;
  /** No commit for this response: later ends and header flushes pass straight through. */
  abandon(): void;
}

/** Where a held response keeps its holder: the replaced methods are shared, not closures per response. */
const HOLD: unique symbol = Symbol('sessionkit.hold');

interface HoldingResponse extends ServerResponse {
  [HOLD]?: Hold<unknown>;
}

/** What a holder needs of the manager, for its session type `S`. */
interface Committer<S> {
  commit(session: S): Promise<string[]>;
  cookiesNow(session: S): string[];
}

/**
 * Wraps `res.end` so the session is committed (the write has landed, SEC-43) before the real end,
 * with its cookies appended, and `res.write`/`res.flushHeaders` so headers flushed early carry
 * `manager.cookiesNow` (an explicit `writeHead` only records status and headers until then). A
 * response with status 5xx is a failed request: nothing is committed. A commit failure goes to
 * `onError(error, res)` through `failResponse`. With `gated`, a held end also waits for `release()`.
 */
export function holdResponse<Data extends SessionDataShape>(
  res: ServerResponse,
  manager: SessionManager<Data>,
  session: Session<Data>,
  onError: (error: unknown, res: ServerResponse) => void,
  gated: boolean,
): HeldResponse {
  return new Hold<Session<Data>>(res, manager, session, onError, gated);
}

/**
 * The state of one held response (one object per response). The methods installed on `res` are
 * the module-level `held*` functions below; they find this object under `res[HOLD]`.
 */
class Hold<S> implements HeldResponse {
  phase: 'open' | 'held' | 'done' = 'open';
  released: boolean;
  /** An early header flush is running: its own `writeHead` call goes straight through. */
  flushing = false;
  endArgs: unknown[] = [];
  readonly realEnd: ServerResponse['end'];
  readonly realWriteHead: ServerResponse['writeHead'];
  readonly realWrite: ServerResponse['write'];
  readonly realFlushHeaders: ServerResponse['flushHeaders'];

  constructor(
    readonly res: HoldingResponse,
    readonly manager: Committer<S>,
    readonly session: S,
    readonly onError: (error: unknown, res: ServerResponse) => void,
    gated: boolean,
  ) {
    this.released = !gated;
    this.realEnd = res.end;
    this.realWriteHead = res.writeHead;
    this.realWrite = res.write;
    this.realFlushHeaders = res.flushHeaders;
    res[HOLD] = this;
    res.end = heldEnd;
    res.writeHead = heldWriteHead;
    res.write = heldWrite;
    res.flushHeaders = heldFlushHeaders;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.phase === 'held') this.start();
  }

  abandon(): void {
    this.phase = 'done';
  }

  start(): void {
    this.finish().catch(() => this.res.destroy());
  }

  async finish(): Promise<void> {
    const res = this.res;
    let cookies: string[] = [];
    if (res.statusCode < 500) {
      try {
        cookies = await this.manager.commit(this.session);
      } catch (error) {
        this.phase = 'done';
        failResponse(res, error, (failure) => this.onError(failure, res));
        return;
      }
    }
    this.phase = 'done';
    if (!res.headersSent) appendSessionCookies(res, cookies);
    Reflect.apply(this.realEnd, res, this.endArgs);
  }

  /** Runs a call that sends the headers before the commit (streaming) with `cookiesNow` added. */
  early(real: (...args: never[]) => unknown, args: unknown[]): unknown {
    const res = this.res;
    if (this.phase !== 'open' || res.headersSent) return Reflect.apply(real, res, args);
    if (res.statusCode < 500) appendSessionCookies(res, this.manager.cookiesNow(this.session));
    this.flushing = true;
    try {
      return Reflect.apply(real, res, args);
    } finally {
      this.flushing = false;
    }
  }
}

/** The holder of `res`; the `held*` methods are only ever installed together with it. */
function holdOf(res: HoldingResponse): Hold<unknown> {
  const hold = res[HOLD];
  if (hold === undefined)
    throw new TypeError('sessionkit: a held response method was moved to another object');
  return hold;
}

function heldEnd(this: HoldingResponse, ...args: unknown[]): HoldingResponse {
  const hold = holdOf(this);
  if (hold.phase !== 'open') {
    Reflect.apply(hold.realEnd, this, args);
  } else {
    hold.phase = 'held';
    hold.endArgs = args;
    if (hold.released) hold.start();
  }
  return this;
}

// Node sends nothing before the first write or end, so an explicit writeHead is only recorded on
// `res` here: the session cookies (and a rotation) are decided when the headers really leave.
function heldWriteHead(this: HoldingResponse, statusCode: number, ...rest: unknown[]): HoldingResponse {
  const hold = holdOf(this);
  if (hold.phase !== 'open' || hold.flushing) {
    Reflect.apply(hold.realWriteHead, this, [statusCode, ...rest]);
    return this;
  }
  const reason = typeof rest[0] === 'string' ? rest[0] : undefined;
  this.statusCode = statusCode;
  if (reason !== undefined) this.statusMessage = reason;
  applyHeaders(this, reason === undefined ? rest[0] : rest[1]);
  return this;
}

function heldWrite(this: HoldingResponse, ...args: unknown[]): boolean {
  const hold = holdOf(this);
  return hold.early(hold.realWrite, args) === true;
}

function heldFlushHeaders(this: HoldingResponse): void {
  const hold = holdOf(this);
  hold.early(hold.realFlushHeaders, []);
}

type HeaderValue = number | string | readonly string[];

function isHeaderValue(value: unknown): value is HeaderValue {
  return (
    typeof value === 'string' ||
    typeof value === 'number' ||
    (Array.isArray(value) && value.every((v) => typeof v === 'string'))
  );
}

/**
 * Applies the headers argument of a `writeHead` call to `res` first, so ours can be appended to
 * them: writeHead's headers take precedence over setHeader's (node docs). In the flat array form
 * (`[name, value, name, value]`) a repeated name keeps all its values.
 */
function applyHeaders(res: ServerResponse, headers: unknown): void {
  if (Array.isArray(headers)) {
    const flat: unknown[] = headers;
    const merged = new Map<string, string[]>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = String(flat[i]).toLowerCase();
      const value = flat[i + 1];
      const values = Array.isArray(value) ? value.map(String) : [String(value)];
      merged.set(name, [...(merged.get(name) ?? []), ...values]);
    }
    for (const [name, values] of merged)
      res.setHeader(name, values.length === 1 ? String(values[0]) : values);
  } else if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (isHeaderValue(value)) res.setHeader(name, value);
    }
  }
}
