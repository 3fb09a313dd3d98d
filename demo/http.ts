/**
 * HTTP helpers shared by the page and API routes: security headers, the error handler, the
 * session-derived values every response uses.
 */
import { randomBytes } from 'node:crypto';
import type { ErrorRequestHandler, Response } from 'express';
import { isSessionError, type Session } from '../src/index.js';
import type { ShopData } from './cart.js';
import { ShopError } from './errors.js';
import type { SessionBackend } from './stores.js';
import { type AboutSession, renderErrorPage } from './views.js';

/** Largest JSON body the API reads. */
export const BODY_LIMIT = '4kb';

/**
 * Sets the headers of an HTML page and returns the nonce its inline style and script carry: the CSP
 * allows nothing else to run, and the page (it holds the CSRF token) is never cached.
 */
export function pageHeaders(res: Response): string {
  const nonce = randomBytes(16).toString('base64');
  res.set({
    'content-security-policy':
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; ` +
      "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  });
  return nonce;
}

/** What `GET /api/me` answers (and login, which changes all of it). */
export function meOf(session: Session<ShopData>, backend: SessionBackend) {
  return {
    user: session.userId ?? null,
    sessionId: session.id,
    csrfToken: session.csrfToken(),
    store: backend.kind,
  };
}

/** The user of a logged-in session, or a 401. */
export function requireUser(session: Session<ShopData>): string {
  const user = session.userId;
  if (user === undefined) throw new ShopError(401, 'log in first (POST /api/login)');
  return user;
}

/** The "About this session" panel's values. */
export function aboutOf(session: Session<ShopData>, backend: SessionBackend): AboutSession {
  return {
    id: session.id,
    isNew: session.isNew,
    store: backend.description,
    version: session.version,
    createdAt: session.createdAt,
    idleExpiresAt: session.idleExpiresAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    rotations: session.rotations,
    user: session.userId,
    authAgeSeconds: session.authAgeSeconds(),
    cookieName: backend.manager.cookieName,
    secureCookie: backend.secureCookies,
  };
}

/**
 * Answers every failure: JSON `{ error }` under /api, an error page elsewhere. Store failures (status
 * 503 from sessionkit) say so; messages of unexpected errors stay in the server log.
 */
export function errorHandler(): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const { status, message } = describeFailure(error);
    if (status >= 500) {
      const detail = error instanceof Error ? error.message : String(error);
      console.error(`demo: ${req.method} ${req.originalUrl} failed with ${status}: ${detail}`);
    }
    if (req.originalUrl.startsWith('/api/')) {
      res.status(status).json({ error: message });
      return;
    }
    res
      .status(status)
      .type('html')
      .send(renderErrorPage(pageHeaders(res), status, message));
  };
}

function describeFailure(error: unknown): { status: number; message: string } {
  if (error instanceof ShopError) return { status: error.status, message: error.message };
  if (isSessionError(error) && error.status === 503) {
    return {
      status: 503,
      message: 'the session store is unavailable or busy right now; nothing was saved, try again in a moment',
    };
  }
  const status = numberProperty(error, 'status');
  if (status !== undefined && status >= 400 && status < 500) {
    // express.json() (body-parser) errors: their status and type are part of its documented API.
    const type = error instanceof Error && 'type' in error ? error.type : undefined;
    if (type === 'entity.parse.failed') return { status: 400, message: 'malformed JSON in the request body' };
    if (type === 'entity.too.large') {
      return { status: 413, message: `the request body is larger than ${BODY_LIMIT}` };
    }
    return { status, message: error instanceof Error ? error.message : 'bad request' };
  }
  return { status: 500, message: 'something went wrong on the server' };
}

function numberProperty(value: unknown, name: string): number | undefined {
  if (typeof value !== 'object' || value === null || !(name in value)) return undefined;
  const property: unknown = Reflect.get(value, name);
  return typeof property === 'number' ? property : undefined;
}
