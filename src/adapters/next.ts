/**
 * Public entry `sessionkit/next`: sessions in the Next.js App Router — Server Components (read),
 * Server Actions and Route Handlers (read and change), and `proxy.ts` (read).
 *
 * Next.js is imported nowhere: `createNextSessions` takes the app's own `cookies` and `headers`
 * from `next/headers`, typed structurally, so any Next.js version with the async request APIs
 * (15, 16) fits.
 *
 * @module
 */
import { readCookiesWithPrefix } from '../core/cookie.js';
import type { RequestInfo, Session, SessionDataShape, SessionManager } from '../core/types.js';
import { SessionStateError } from '../errors.js';
import { type FetchSessionOptions, withSession } from './fetch.js';
import { type ReadonlySession, readonlySession } from './internal/readonly-session.js';
import { parseSetCookie, type SetCookieFields } from './internal/set-cookie.js';
import { webCookieHeader, webRequestInfo } from './internal/web.js';

export type { ReadonlySession } from './internal/readonly-session.js';
export type { SetCookieFields } from './internal/set-cookie.js';

/** What `await cookies()` from `next/headers` gives; only the methods sessionkit calls. */
export interface NextCookieStore {
  getAll(): Array<{ name: string; value: string }>;
  set(cookie: SetCookieFields): unknown;
  delete(name: string): unknown;
}

/** The request APIs of `next/headers`: pass `{ cookies, headers }` as imported. */
export interface NextRequestApis {
  cookies(): Promise<NextCookieStore>;
  headers(): Promise<{ get(name: string): string | null }>;
}

/** A Route Handler that also receives the request's session. */
export type NextRouteHandler<Data extends SessionDataShape, Context> = (
  request: Request,
  session: Session<Data>,
  context: Context,
) => Response | Promise<Response>;

/** The session of the current Next.js request (see `createNextSessions`). */
export interface NextSessions<Data extends SessionDataShape> {
  /**
   * The request's session, read-only: in Server Components, Server Actions and Route Handlers.
   * Loaded once per request (one store read however many components ask), never saved.
   */
  read(): Promise<ReadonlySession<Data>>;
  /**
   * Runs `fn` with the request's session, then saves it (at most one store write) and sets its
   * cookies through `cookies()`. Only in Server Actions and Route Handlers: in a Server Component
   * render, where Next.js refuses to set cookies, it throws `ERR_SESSION_STATE` before loading
   * anything. An `fn` that throws saves nothing; a store failure rejects with `ERR_SESSION_STORE`.
   */
  change<T>(fn: (session: Session<Data>) => T | Promise<T>): Promise<T>;
  /**
   * Wraps a Route Handler the way `sessionkit/fetch`'s `withSession` does: the session is saved
   * after the handler and its cookies (with `Cache-Control: no-store`) are added to its response.
   * A response that sets no `Cache-Control` of its own gets `no-store` too: it was built with the
   * session at hand, and a shared cache must not hand it to someone else.
   */
  route<Context = unknown>(
    handler: NextRouteHandler<Data, Context>,
    options?: FetchSessionOptions,
  ): (request: Request, context: Context) => Promise<Response>;
}

// Next.js offers no way to ask whether cookies may be set; the only reliable signal is its refusal.
// Deleting a cookie that is never set asks without changing anything a browser keeps.
const PROBE_COOKIE = 'sessionkit-can-set-cookies';
const NOT_WRITABLE =
  'cannot change the session here: Next.js sets cookies only in Server Actions and Route Handlers, not while a Server Component renders';
const READ_ONLY =
  'is not available on a read-only session: change it with change() in a Server Action or Route Handler';

/**
 * Binds a manager (store-backed or cookie-only) to the request APIs of `next/headers`.
 * @example
 * // app/session.ts
 * import { cookies, headers } from 'next/headers';
 * import { createNextSessions } from 'sessionkit/next';
 * export const shop = createNextSessions(manager, { cookies, headers });
 * // a Server Component:  const session = await shop.read();
 * // a Server Action:     await shop.change((session) => session.set('cart', [...cart, sku]));
 */
export function createNextSessions<Data extends SessionDataShape>(
  manager: SessionManager<Data>,
  next: NextRequestApis,
): NextSessions<Data> {
  // Keyed by the request's cookie store, which Next.js keeps for the request (and replaces when an
  // action's cookie changes are applied before the page renders again).
  const loaded = new WeakMap<NextCookieStore, Promise<Session<Data>>>();

  async function load(store: NextCookieStore): Promise<Session<Data>> {
    const headers = await next.headers();
    const raw = headers.get('cookie') ?? undefined;
    const forwardedProto = headers.get('x-forwarded-proto') ?? undefined;
    const info: RequestInfo = {
      // Next.js builds request URLs from X-Forwarded-Proto (it sets the header from the socket when
      // a request comes without one); the session follows the same view of the protocol.
      protocol: forwardedProto?.includes('https') ? 'https' : 'http',
      forwardedProto,
      userAgent: headers.get('user-agent') ?? undefined,
    };
    return manager.load(cookieHeader(store, raw, manager.cookieName), info);
  }

  return {
    async read() {
      const store = await next.cookies();
      let pending = loaded.get(store);
      if (pending === undefined) {
        pending = load(store);
        loaded.set(store, pending);
        pending.catch(() => loaded.delete(store));
      }
      return readonlySession(await pending, READ_ONLY);
    },
    async change(fn) {
      const store = await next.cookies();
      try {
        store.delete(PROBE_COOKIE);
      } catch {
        throw new SessionStateError(NOT_WRITABLE);
      }
      const session = await load(store);
      const result = await fn(session);
      const cookies = await manager.commit(session);
      for (const cookie of cookies) store.set(parseSetCookie(cookie));
      loaded.delete(store);
      return result;
    },
    route(handler, options) {
      return async (request, context) => {
        const run = withSession(manager, (req, session) => handler(req, session, context), options);
        return uncacheable(await run(request));
      };
    },
  };
}

/**
 * The session of a `Request`, read-only: for `proxy.ts` (`middleware.ts` before Next.js 16),
 * e.g. to redirect anonymous visitors. One store read (none without a cookie); nothing is saved.
 */
export async function readSession<Data extends SessionDataShape>(
  manager: SessionManager<Data>,
  request: Request,
): Promise<ReadonlySession<Data>> {
  return readonlySession(await manager.load(webCookieHeader(request), webRequestInfo(request)), READ_ONLY);
}

/** `response` with `Cache-Control: no-store` unless it says otherwise; a copy if its headers are immutable. */
function uncacheable(response: Response): Response {
  if (response.headers.has('cache-control')) return response;
  try {
    response.headers.set('cache-control', 'no-store');
    return response;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const copy = new Response(response.body, response);
    copy.headers.set('cache-control', 'no-store');
    return copy;
  }
}

const CHUNK = /^\.[0-9]+$/;

/**
 * The `Cookie` header to load from: the request's own, unless this request already changed the
 * session's cookies (an action's changes are visible to the page Next.js renders after it).
 */
function cookieHeader(store: NextCookieStore, raw: string | undefined, name: string): string | undefined {
  const ours = (cookie: string) =>
    cookie === name || (cookie.startsWith(name) && CHUNK.test(cookie.slice(name.length)));
  const current = store.getAll().filter((cookie) => ours(cookie.name));
  const sent = new Map(readCookiesWithPrefix(raw, name).filter(([cookie]) => ours(cookie)));
  if (current.length === sent.size && current.every((cookie) => sent.get(cookie.name) === cookie.value))
    return raw;
  const live = current.filter((cookie) => cookie.value !== '');
  return live.length === 0 ? undefined : live.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
}
