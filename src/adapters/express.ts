/**
 * Public entry `sessionkit/express`: session middleware for Express 4 and 5.
 *
 * `req.session` is set at run time. To type it, declare it once in your app with your data type
 * (sessionkit does not declare it globally, so it can live beside express-session while you migrate):
 *
 * ```ts
 * import type { Session } from 'sessionkit';
 * declare global {
 *   namespace Express {
 *     interface Request { session: Session<AppData> }
 *   }
 * }
 * ```
 *
 * @module
 */
import type { NextFunction, Request, Response } from 'express';
import type { Session, SessionDataShape, SessionManager } from '../core/types.js';
import { SessionStateError } from '../errors.js';
import { holdResponse, requestInfo } from './internal/node-http.js';

/** The middleware `sessionMiddleware` returns; `of(req)` reads a request's session, typed. */
export interface SessionMiddleware<Data extends SessionDataShape> {
  (req: Request, res: Response, next: NextFunction): void;
  /**
   * The session of `req` (the same object as `req.session`), typed with the manager's data.
   * Throws `ERR_SESSION_STATE` when the middleware did not run for `req`.
   */
  of(req: Request): Session<Data>;
}

/**
 * Creates Express middleware that loads the session from the `Cookie` header into `req.session`
 * and commits it before the response ends (its `Set-Cookie` values appended to the app's, with
 * `Cache-Control: no-store`). A 5xx response commits nothing, so a handler that throws leaves no
 * half-written session. Store failures go to `next(err)` with `err.status` 503. Register routes that
 * need no session before the middleware (or on a router without it): they then cost nothing.
 * @example
 * import express from 'express';
 * import { sessionMiddleware } from 'sessionkit/express';
 * const app = express();
 * const sessions = sessionMiddleware(manager);
 * app.use(sessions);
 * app.post('/visit', async (req, res) => {
 *   const visits = await sessions.of(req).update('visits', (n = 0) => n + 1); // or req.session, once declared
 *   res.redirect(303, `/?visits=${visits}`);
 * });
 */
export function sessionMiddleware<Data extends SessionDataShape>(
  manager: SessionManager<Data>,
): SessionMiddleware<Data> {
  // The sessions this middleware loaded, for `of` (two middlewares on one request stay apart). A
  // WeakMap rather than a property of `req`: each property added to an Express request builds a new
  // hidden class (Express gives every request a new prototype), which costs more than the entry.
  const sessions = new WeakMap<Request, Session<Data>>();

  function middleware(req: Request, res: Response, next: NextFunction): void {
    manager.load(req.headers.cookie, requestInfo(req)).then((session) => {
      sessions.set(req, session);
      // Set by reflection rather than assigned: the app's type for `req.session` is its own business.
      Reflect.set(req, 'session', session);
      // A commit failure surfaces after the route ran; Express then routes it like express-session's
      // (`next` takes the error; the response it is also given is ignored).
      holdResponse(res, manager, session, next, false);
      next();
    }, next);
  }

  function of(req: Request): Session<Data> {
    const session = sessions.get(req);
    if (session === undefined) throw new SessionStateError('sessionMiddleware did not run for this request');
    return session;
  }

  return Object.assign(middleware, { of });
}
