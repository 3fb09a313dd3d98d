/**
 * Internals shared by the adapters built on the Fetch API's `Request` and `Response` (fetch, Hono).
 */
import type { SessionError } from '../errors.js';
import type { RequestInfo } from './types.js';

/**
 * What the manager needs to know about a Fetch API request. There is no socket: the protocol is the
 * request URL's, which the runtime builds from the connection it accepted.
 */
export function webRequestInfo(request: Request): RequestInfo {
  const headers = request.headers;
  return {
    // `Request.url` is serialized by the URL parser, so the scheme is always lower case.
    protocol: request.url.startsWith('https:') ? 'https' : 'http',
    forwardedProto: headers.get('x-forwarded-proto') ?? undefined,
    userAgent: headers.get('user-agent') ?? undefined,
  };
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
  return new Response(error.status === 503 ? 'Service Unavailable' : 'Internal Server Error', {
    status: error.status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  });
}
