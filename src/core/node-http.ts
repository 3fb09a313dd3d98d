/**
 * What the adapters for node-style responses (`node:http`, Express) share: request info from an
 * `IncomingMessage`, appending `Set-Cookie`, and holding `res.end` until the commit has landed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SessionError } from '../errors.js';
import type { RequestInfo, Session, SessionDataShape, SessionManager } from './types.js';

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

/**
 * Wraps `res.end` so the session is committed (the write has landed, SEC-43) before the real end,
 * with its cookies appended, and `res.write`/`res.flushHeaders` so headers flushed early carry
 * `manager.cookiesNow` (an explicit `writeHead` only records status and headers until then). A response with status 5xx is a failed
 * request: nothing is committed. A commit failure goes to `onError` through `failResponse`.
 * With `gated`, a held end also waits for `release()`.
 */
export function holdResponse<Data extends SessionDataShape>(
  res: ServerResponse,
  manager: SessionManager<Data>,
  session: Session<Data>,
  onError: (error: unknown) => void,
  gated: boolean,
): HeldResponse {
  const realEnd = res.end;
  const realWriteHead = res.writeHead;
  let phase: 'open' | 'held' | 'done' = 'open';
  let released = !gated;
  let endArgs: unknown[] = [];

  async function finish(): Promise<void> {
    let cookies: string[] = [];
    if (res.statusCode < 500) {
      try {
        cookies = await manager.commit(session);
      } catch (error) {
        phase = 'done';
        failResponse(res, error, onError);
        return;
      }
    }
    phase = 'done';
    if (!res.headersSent) appendSessionCookies(res, cookies);
    Reflect.apply(realEnd, res, endArgs);
  }

  function start(): void {
    finish().catch(() => res.destroy());
  }

  res.end = (...args: unknown[]) => {
    if (phase !== 'open') {
      Reflect.apply(realEnd, res, args);
    } else {
      phase = 'held';
      endArgs = args;
      if (released) start();
    }
    return res;
  };

  // Node sends nothing before the first write or end, so an explicit writeHead is only recorded on
  // `res` here: the session cookies (and a rotation) are decided when the headers really leave.
  let flushing = false;
  res.writeHead = (statusCode: number, ...rest: unknown[]) => {
    if (phase !== 'open' || flushing) return Reflect.apply(realWriteHead, res, [statusCode, ...rest]);
    const reason = typeof rest[0] === 'string' ? rest[0] : undefined;
    res.statusCode = statusCode;
    if (reason !== undefined) res.statusMessage = reason;
    applyHeaders(res, reason === undefined ? rest[0] : rest[1]);
    return res;
  };

  /** Runs a call that sends the headers before the commit (streaming) with `cookiesNow` added. */
  function early<T>(send: () => T): T {
    if (phase !== 'open' || res.headersSent) return send();
    if (res.statusCode < 500) appendSessionCookies(res, manager.cookiesNow(session));
    flushing = true;
    try {
      return send();
    } finally {
      flushing = false;
    }
  }
  const realWrite = res.write;
  const realFlushHeaders = res.flushHeaders;
  res.write = (...args: unknown[]) => early(() => Reflect.apply(realWrite, res, args));
  res.flushHeaders = () => early(() => Reflect.apply(realFlushHeaders, res, []));

  return {
    release() {
      if (released) return;
      released = true;
      if (phase === 'held') start();
    },
    abandon() {
      phase = 'done';
    },
  };
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
