/**
 * Public entry `sessionkit/hono`: a Hono 4 middleware that puts the session at `c.get('session')`.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Session, SessionDataShape, SessionManager, UntypedSessionData } from '../core/types.js';
import { isSessionError, SessionConfigError } from '../errors.js';
import { runtimePeerAddress, sessionErrorResponse, webCookieHeader, webRequestInfo } from './internal/web.js';

/**
 * The context variables the middleware sets; put them in the app's `Variables` to type
 * `c.get('session')`: `new Hono<{ Variables: SessionVariables<MyData> }>()`.
 */
export type SessionVariables<Data extends SessionDataShape = UntypedSessionData> = {
  /** The request's session. */
  session: Session<Data>;
};

/** The Hono environment the middleware declares: `c.get('session')` is a `Session<Data>`. */
export type SessionEnv<Data extends SessionDataShape = UntypedSessionData> = {
  /** The context variables the middleware sets. */
  Variables: SessionVariables<Data>;
};

/** Options of `sessionMiddleware`. */
export interface HonoSessionOptions {
  /**
   * The client's IP address, for the invalid-token alarm and IP binding (SEC-41). Behind a proxy,
   * return the address the proxy reports; never trust a header a client can set directly.
   * @default the runtime's peer address from `c.env`: `@hono/node-server`'s socket, Bun's
   * `server.requestIP()`, Deno's `info.remoteAddr`; none elsewhere (Cloudflare Workers)
   */
  clientAddress?: (c: Context) => string | undefined;
}

/**
 * Creates the middleware: it loads the session from the `Cookie` header, exposes it as
 * `c.get('session')`, and after the handlers saves it and appends its `Set-Cookie` values (with
 * `Cache-Control: no-store`). A handler error (or a 5xx response) saves nothing. Session errors (a
 * store failure is `ERR_SESSION_STORE`, status 503) are thrown to `app.onError`; Hono's default
 * handler answers with their status. Mount it on the paths that need a session
 * (`app.use('/app/*', …)`): other routes pay nothing. The session is saved when the handler returns
 * its response, so changes a streaming body makes afterwards are not saved.
 * @example
 * import { Hono } from 'hono';
 * import { sessionMiddleware, type SessionVariables } from 'sessionkit/hono';
 * const app = new Hono<{ Variables: SessionVariables<{ visits: number }> }>();
 * app.use(sessionMiddleware(sessions));
 * app.get('/', (c) => {
 *   const session = c.get('session');
 *   session.set('visits', (session.get('visits') ?? 0) + 1);
 *   return c.json({ visits: session.get('visits') });
 * });
 */
export function sessionMiddleware<Data extends SessionDataShape>(
  manager: SessionManager<Data>,
  options: HonoSessionOptions = {},
): MiddlewareHandler<SessionEnv<Data>> {
  const clientAddress = options.clientAddress;
  if (clientAddress !== undefined && typeof clientAddress !== 'function') {
    throw new SessionConfigError('clientAddress', 'must be a function (c) => string | undefined');
  }
  return async (c, next) => {
    const request = c.req.raw;
    const ip = clientAddress ? clientAddress(c) : runtimePeerAddress(request, c.env);
    let session: Session<Data>;
    try {
      session = await manager.load(
        webCookieHeader(request),
        webRequestInfo(request, typeof ip === 'string' ? ip : undefined),
      );
    } catch (error) {
      throw respondable(error);
    }
    c.set('session', session);
    await next();
    // Hono routes a handler's error to onError and sets `c.error` before control returns here; a 5xx
    // response is a failed request too. Neither saves its half-done changes.
    if (c.error !== undefined || c.res.status >= 500) return;
    let cookies: string[];
    try {
      cookies = await manager.commit(session);
    } catch (error) {
      // The response is void, the app's headers with it (its cookies, a redirect): Hono would copy
      // them onto the error response.
      const names = new Set<string>();
      c.res.headers.forEach((_value, name) => {
        names.add(name);
      });
      for (const name of names) c.header(name, undefined);
      throw respondable(error);
    }
    if (cookies.length === 0) return;
    // SEC-16: a response carrying a session cookie must never be stored by a cache.
    c.header('Cache-Control', 'no-store');
    for (const value of cookies) c.header('Set-Cookie', value, { append: true });
  };
}

/**
 * Gives a session error Hono's `getResponse()` (the duck type its default error handler answers
 * with, as for an `HTTPException`), so an app without `onError` replies with the error's status
 * instead of 500. The error keeps its class and `code` for a custom `onError`.
 */
function respondable(error: unknown): unknown {
  if (isSessionError(error) && !('getResponse' in error)) {
    Object.defineProperty(error, 'getResponse', { value: () => sessionErrorResponse(error) });
  }
  return error;
}
