/**
 * Public entry `sessionkit/fetch`: sessions for `(request: Request) => Response` handlers — Bun,
 * Deno, Cloudflare Workers, Next.js route handlers and any other Fetch API server.
 *
 * @module
 */
import type { Session, SessionDataShape, SessionManager, UntypedSessionData } from '../core/types.js';
import { isSessionError, SessionConfigError, type SessionError } from '../errors.js';
import { runtimePeerAddress, sessionErrorResponse, webCookieHeader, webRequestInfo } from './internal/web.js';

/** A Fetch API handler that also receives the request's session. */
export type SessionHandler<Data extends SessionDataShape = UntypedSessionData> = (
  request: Request,
  session: Session<Data>,
) => Response | Promise<Response>;

/** Options of `withSession`. */
export interface FetchSessionOptions {
  /**
   * Builds the response when loading or saving the session fails (a store error is
   * `ERR_SESSION_STORE`, status 503). @default a plain-text response with the error's `status`
   */
  onError?: (error: SessionError, request: Request) => Response | Promise<Response>;
  /**
   * The client's IP address, for the invalid-token alarm and IP binding (SEC-41). Gets the request
   * and whatever the runtime passed the handler after it. Behind a proxy, return the address the
   * proxy reports (e.g. the last `X-Forwarded-For` hop your own proxy appended); never trust a header
   * a client can set directly. @default the runtime's peer address: Bun's `server.requestIP()`,
   * Deno's `info.remoteAddr`, `@hono/node-server`'s socket; none elsewhere (Cloudflare Workers)
   */
  clientAddress?: (request: Request, ...context: unknown[]) => string | undefined;
}

/**
 * Wraps a Fetch API handler: loads the session from the `Cookie` header, runs the handler, saves the
 * session and adds its `Set-Cookie` values (with `Cache-Control: no-store`) to the response. A handler
 * that throws (or answers 5xx) saves nothing; its error propagates to the runtime. The returned
 * handler passes what the runtime gives after the request (Bun's server, Deno's info) to
 * `clientAddress`.
 * @example
 * import { withSession } from 'sessionkit/fetch';
 * export default {
 *   fetch: withSession(sessions, async (request, session) => {
 *     session.set('visits', (session.get('visits') ?? 0) + 1);
 *     return Response.json({ visits: session.get('visits') });
 *   }),
 * };
 */
export function withSession<Data extends SessionDataShape>(
  manager: SessionManager<Data>,
  handler: SessionHandler<Data>,
  options: FetchSessionOptions = {},
): (request: Request, ...context: unknown[]) => Promise<Response> {
  const onError = options.onError ?? sessionErrorResponse;
  const clientAddress = options.clientAddress;
  if (clientAddress !== undefined && typeof clientAddress !== 'function') {
    throw new SessionConfigError(
      'clientAddress',
      'must be a function (request, ...context) => string | undefined',
    );
  }
  return async (request, ...context) => {
    const ip = clientAddress ? clientAddress(request, ...context) : runtimePeerAddress(request, context[0]);
    let session: Session<Data>;
    try {
      session = await manager.load(
        webCookieHeader(request),
        webRequestInfo(request, typeof ip === 'string' ? ip : undefined),
      );
    } catch (error) {
      if (!isSessionError(error)) throw error;
      return onError(error, request);
    }
    const response = await handler(request, session);
    // A 5xx response is a failed request, like a thrown error: its half-done changes are not saved.
    if (response.status >= 500) return response;
    let cookies: string[];
    try {
      cookies = await manager.commit(session);
    } catch (error) {
      if (!isSessionError(error)) throw error;
      // The response is dropped: release its body (a fetched upstream body holds a connection).
      response.body?.cancel().catch(ignore);
      return onError(error, request);
    }
    return cookies.length === 0 ? response : withCookies(response, cookies);
  };
}

/** `response` with `cookies`; a copy when its headers are immutable (`Response.redirect()`, `fetch()`). */
function withCookies(response: Response, cookies: readonly string[]): Response {
  try {
    appendCookies(response.headers, cookies);
    return response;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const copy = new Response(response.body, response);
    appendCookies(copy.headers, cookies);
    return copy;
  }
}

function appendCookies(headers: Headers, cookies: readonly string[]): void {
  // SEC-16: a response carrying a session cookie must never be stored by a cache.
  headers.set('cache-control', 'no-store');
  for (const value of cookies) headers.append('set-cookie', value);
}

function ignore(): void {}
