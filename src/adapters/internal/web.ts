/**
 * Internals shared by the adapters built on the Fetch API's `Request` and `Response` (fetch, Hono, Next.js).
 */

import type { RequestInfo } from '../../core/types.js';
import type { SessionError } from '../../errors.js';

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

/** `value[name]` when `value` is an object, else `undefined`. */
function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? Reflect.get(value, name) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The peer address a Fetch API runtime hands its handler next to the request (`fetch(request,
 * context)`), found by shape: Bun's `Server` (`server.requestIP(request).address`), Deno's
 * `ServeHandlerInfo` (`info.remoteAddr.hostname`), and the bindings of `@hono/node-server`, the usual
 * Node.js server for such handlers (`env.incoming.socket.remoteAddress`). `undefined` where the
 * runtime passes no address (Cloudflare Workers, most frameworks): the adapters take a
 * `clientAddress` option for those. Headers (`X-Forwarded-For`) are never read: a client sets them.
 */
export function runtimePeerAddress(request: Request, context: unknown): string | undefined {
  const requestIP = field(context, 'requestIP');
  if (typeof requestIP === 'function') {
    return text(field(Reflect.apply(requestIP, context, [request]), 'address'));
  }
  const deno = text(field(field(context, 'remoteAddr'), 'hostname'));
  if (deno !== undefined) return deno;
  return text(field(field(field(context, 'incoming'), 'socket'), 'remoteAddress'));
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
