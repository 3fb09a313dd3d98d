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

/** Where a held response keeps its holder (the last one installed; each links the one before). */
const HOLD: unique symbol = Symbol('sessionkit.hold');

interface HoldingResponse extends ServerResponse {
  [HOLD]?: Hold<unknown>;
}

/** What a holder needs of the manager, for its session type `S`. */
interface Committer<S> {
  commit(session: S): Promise<string[]>;
  cookiesNow(session: S): string[];
}

const NO_ARGS: readonly unknown[] = [];
const NO_COOKIES: readonly string[] = [];

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
 * shared, not closures per response: those of `heldMethods(depth)`, which find this object from
 * `res[HOLD]` by its depth.
 */
class Hold<S> implements HeldResponse {
  phase: 'open' | 'held' | 'done' = 'open';
  released: boolean;
  /** An early header flush is running: its own `writeHead` call goes straight through. */
  flushing = false;
  endArgs: readonly unknown[] = NO_ARGS;
  /** The holder installed on `res` before this one (another session middleware), if any. */
  readonly inner: Hold<unknown> | undefined;
  /** How many holders were installed on `res` before this one. */
  readonly depth: number;
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
    this.inner = res[HOLD];
    this.depth = this.inner === undefined ? 0 : this.inner.depth + 1;
    this.realEnd = res.end;
    this.realWriteHead = res.writeHead;
    this.realWrite = res.write;
    this.realFlushHeaders = res.flushHeaders;
    const held = heldMethods(this.depth);
    res[HOLD] = this;
    res.end = held.end;
    res.writeHead = held.writeHead;
    res.write = held.write;
    res.flushHeaders = held.flushHeaders;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.phase === 'held') void this.finish();
  }

  abandon(): void {
    this.phase = 'done';
  }

  /** Commits, then really ends the response; never rejects (a failure destroys the response). */
  async finish(): Promise<void> {
    const res = this.res;
    try {
      let cookies = NO_COOKIES;
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
    } catch {
      res.destroy();
    }
  }

  end(args: unknown[]): void {
    if (this.phase !== 'open') {
      Reflect.apply(this.realEnd, this.res, args);
      return;
    }
    this.phase = 'held';
    this.endArgs = args;
    if (this.released) void this.finish();
  }

  // Node sends nothing before the first write or end, so an explicit writeHead is only recorded on
  // `res` here: the session cookies (and a rotation) are decided when the headers really leave.
  writeHead(statusCode: number, rest: unknown[]): void {
    const res = this.res;
    if (this.phase !== 'open' || this.flushing) {
      Reflect.apply(this.realWriteHead, res, [statusCode, ...rest]);
      return;
    }
    const reason = typeof rest[0] === 'string' ? rest[0] : undefined;
    res.statusCode = statusCode;
    if (reason !== undefined) res.statusMessage = reason;
    applyHeaders(res, reason === undefined ? rest[0] : rest[1]);
  }

  /** Runs a call that sends the headers before the commit (streaming) with `cookiesNow` added. */
  early(real: (...args: never[]) => unknown, args: readonly unknown[]): unknown {
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

/** The methods a holder installs on a response. */
interface HeldMethods {
  end(this: HoldingResponse, ...args: unknown[]): HoldingResponse;
  writeHead(this: HoldingResponse, statusCode: number, ...rest: unknown[]): HoldingResponse;
  write(this: HoldingResponse, ...args: unknown[]): boolean;
  flushHeaders(this: HoldingResponse): void;
}

/**
 * One set of methods per depth, built once: with several session middlewares on one response, each
 * holder's methods must reach that holder even when another wrapper (compression) sits between
 * them and calls them later.
 */
const methodsByDepth: HeldMethods[] = [];

function heldMethods(depth: number): HeldMethods {
  let methods = methodsByDepth[depth];
  if (methods === undefined) {
    methods = methodsAt(depth);
    methodsByDepth[depth] = methods;
  }
  return methods;
}

function methodsAt(depth: number): HeldMethods {
  return {
    end(...args) {
      holdOf(this, depth).end(args);
      return this;
    },
    writeHead(statusCode, ...rest) {
      holdOf(this, depth).writeHead(statusCode, rest);
      return this;
    },
    write(...args) {
      const hold = holdOf(this, depth);
      return hold.early(hold.realWrite, args) === true;
    },
    flushHeaders() {
      const hold = holdOf(this, depth);
      hold.early(hold.realFlushHeaders, NO_ARGS);
    },
  };
}

/** The holder of `res` at `depth`; the held methods are only ever installed together with it. */
function holdOf(res: HoldingResponse, depth: number): Hold<unknown> {
  let hold = res[HOLD];
  while (hold !== undefined && hold.depth > depth) hold = hold.inner;
  if (hold === undefined || hold.depth !== depth)
    throw new TypeError('sessionkit: a held response method was moved to another object');
  return hold;
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
