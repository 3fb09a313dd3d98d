/**
 * Public entry `sessionkit/koa`: a Koa middleware that puts the session at `ctx.session`.
 *
 * @module
 */
import type { DefaultState, Middleware } from 'koa';
import type { Session, SessionDataShape, SessionManager, UntypedSessionData } from '../core/types.js';
import { requestInfo } from './internal/node-http.js';

/**
 * The context property the middleware adds. `app.use(sessionMiddleware(manager))` adds it to the
 * type of the app it returns; for an app or router typed up front, use
 * `new Koa<DefaultState, SessionContext<MyData>>()`.
 */
export type SessionContext<Data extends SessionDataShape = UntypedSessionData> = {
  /** The request's session. */
  session: Session<Data>;
};

/**
 * Creates the middleware (Koa 2 and 3): it loads the session from the `Cookie` header, exposes it as
 * `ctx.session`, and after the downstream middleware saves it and appends its `Set-Cookie` values
 * (with `Cache-Control: no-store`) before Koa writes the response. A downstream error (or a 5xx
 * response) saves nothing. Session errors propagate like any Koa error and carry `status` (503 for a
 * store failure), which Koa's default handler answers with. Mount it only where a session is needed
 * (a router's or a mounted app's middleware): other routes pay nothing. A response the app writes
 * itself (`ctx.respond = false`) gets no cookie.
 * @example
 * import Koa from 'koa';
 * import { sessionMiddleware } from 'sessionkit/koa';
 * const app = new Koa().use(sessionMiddleware(sessions)).use(async (ctx) => {
 *   ctx.session.set('visits', (ctx.session.get('visits') ?? 0) + 1);
 *   ctx.body = { visits: ctx.session.get('visits') };
 * });
 */
export function sessionMiddleware<Data extends SessionDataShape>(
  manager: SessionManager<Data>,
): Middleware<DefaultState, SessionContext<Data>> {
  return async (ctx, next) => {
    const session = await manager.load(ctx.req.headers.cookie, requestInfo(ctx.req));
    ctx.session = session;
    await next();
    // A 5xx response is a failed request, like a thrown error: its half-done changes are not saved.
    if (ctx.status >= 500) return;
    const cookies = await manager.commit(session);
    if (cookies.length === 0) return;
    // SEC-16: a response carrying a session cookie must never be stored by a cache.
    ctx.set('Cache-Control', 'no-store');
    ctx.append('Set-Cookie', cookies);
  };
}
