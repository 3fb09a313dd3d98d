/**
 * Internals shared by the adapters built on the Fetch API's `Request` and `Response` (fetch, Hono).
 */
import type { SessionError } from '../errors.js';
import type { RequestInfo } from './types.js';

/**
 * What the manager needs to know about a Fetch API request. There is no socket: the protocol and
 * host are the request URL's, which the runtime builds from the connection it accepted; `ip` is the
 * peer address when the runtime exposes it (Hono on Node.js does).
 */
export function webRequestInfo(request: Request, ip?: string): RequestInfo {
  const headers = request.headers;
  // `Request.url` is serialized by the URL parser, so the scheme is always lower case.
  const https = request.url.startsWith('https:');
  const info: RequestInfo = {
    protocol: https ? 'https' : 'http',
    forwardedProto: headers.get('x-forwarded-proto') ?? undefined,
    userAgent: headers.get('user-agent') ?? undefined,
    // Only a plain-HTTP request needs it (a local one may carry the Secure cookie).
    host: https ? undefined : new URL(request.url).host,
  };
  if (ip !== undefined) info.ip = ip;
  return info;
}

/** The peer address of a request served by `@hono/node-server` (its `env.incoming` is the `IncomingMessage`). */
export function nodePeerAddress(env: unknown): string | undefined {
  if (typeof env !== 'object' || env === null || !('incoming' in env)) return undefined;
  const incoming = env.incoming;
  if (typeof incoming !== 'object' || incoming === null || !('socket' in incoming)) return undefined;
  const socket = incoming.socket;
  if (typeof socket !== 'object' || socket === null || !('remoteAddress' in socket)) return undefined;
  return typeof socket.remoteAddress === 'string' ? socket.remoteAddress : undefined;
}

/**
 * The request's `Cookie` header. Runtimes join repeated `Cookie` headers with `"; "` (RFC 9113
 * §8.2.3), so one string holds them all; it is never split on commas, which a related-domain
 * attacker could plant inside another cookie's value to toss a session cookie.
 */
export function webCookieHeader(request: Request): string | undefined {
  return request.headers.get('cookie') ?? undefined;
}

/** The default response for a session error: its status, a generic body, nothing cacheable. */
export function sessionErrorResponse(error: SessionError): Response {
  const text =
    error.status === 503
      ? 'Service Unavailable'
      : error.status === 413
        ? 'Content Too Large'
        : 'Internal Server Error';
  return new Response(text, {
    status: error.status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  });
}
