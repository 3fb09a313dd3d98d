/**
 * What the black-box security tests share: an app served through the real `sessionkit/node` adapter
 * on 127.0.0.1, a browser-like client with a cookie jar, and a recorder of diagnostics events.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type SessionHandler, type WithSessionOptions, withSession } from '../../src/adapters/node.js';
import {
  createSessionManager,
  DIAGNOSTICS_CHANNEL,
  type Session,
  type SessionEvent,
  type SessionManager,
  type SessionManagerOptions,
  type StoreSessionManager,
} from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import {
  type AdapterHarness,
  createFakeClock,
  type FakeClock,
  type InstrumentedStore,
  instrumentStore,
  listenHarness,
} from '../../src/testing/index.js';

/** Session data of the test app: any JSON value under any key. */
export type AppData = Record<string, unknown>;

/** The session cookie name of a default manager. */
export const SESSION_COOKIE = '__Host-sid';

/** One HTTP response, read whole. */
export interface Reply {
  status: number;
  body: string;
  headers: Headers;
  /** Every `Set-Cookie` line, in order. */
  setCookies: string[];
}

/** A parsed `Set-Cookie` line. */
export interface SetCookie {
  name: string;
  value: string;
  /** Attributes as sent, e.g. `["Path=/", "Secure", "HttpOnly", "SameSite=Lax"]`. */
  attributes: string[];
}

/** Splits a `Set-Cookie` line into name, value and attributes. */
export function parseSetCookie(line: string): SetCookie {
  const [pair = '', ...attributes] = line.split(/;\s*/);
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/** The `Set-Cookie` lines of `reply` for cookie `name`, parsed. */
export function cookiesNamed(reply: Reply, name = SESSION_COOKIE): SetCookie[] {
  return reply.setCookies.map(parseSetCookie).filter((cookie) => cookie.name === name);
}

/** True when a `Set-Cookie` line deletes its cookie. */
export function isClearing(cookie: SetCookie): boolean {
  return cookie.attributes.some((a) => a.toLowerCase() === 'max-age=0');
}

/** The JSON object a reply's body holds. */
export function json(reply: Reply): Record<string, unknown> {
  const value: unknown = JSON.parse(reply.body);
  assert.ok(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    `not an object: ${reply.body}`,
  );
  return { ...value };
}

/** What a request may add. */
export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** What the proxy reports in `X-Forwarded-Proto`: HTTPS, or plain HTTP with `false` (the test managers trust it). @default true */
  https?: boolean;
}

/**
 * A browser-like client: keeps the cookies the app sets (a `Max-Age=0` deletes one; any other expiry
 * is ignored, like a client that keeps a cookie past its `Max-Age`) and sends them back.
 */
export interface Browser {
  request(path: string, init?: RequestOptions): Promise<Reply>;
  /** The value the jar holds for `name`. */
  cookie(name?: string): string | undefined;
  /** Puts a value in the jar (a captured cookie to replay), or removes it with `undefined`. */
  setCookie(value: string | undefined, name?: string): void;
}

/** A client for the app at `url` with an empty cookie jar. */
export function browser(url: string): Browser {
  const jar = new Map<string, string>();
  return {
    async request(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      // Through a proxy reporting the client's scheme (a direct request to 127.0.0.1 is local).
      headers['x-forwarded-proto'] = init.https === false ? 'http' : 'https';
      if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
      const requestInit: RequestInit = { method: init.method ?? 'GET', headers, redirect: 'manual' };
      if (init.body !== undefined) requestInit.body = init.body;
      const response = await fetch(url + path, requestInit);
      const reply: Reply = {
        status: response.status,
        body: await response.text(),
        headers: response.headers,
        setCookies: response.headers.getSetCookie(),
      };
      for (const cookie of reply.setCookies.map(parseSetCookie)) {
        if (isClearing(cookie)) jar.delete(cookie.name);
        else jar.set(cookie.name, cookie.value);
      }
      return reply;
    },
    cookie: (name = SESSION_COOKIE) => jar.get(name),
    setCookie(value, name = SESSION_COOKIE) {
      if (value === undefined) jar.delete(name);
      else jar.set(name, value);
    },
  };
}

/** Answers `body` as JSON. */
export function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

/** What the app tells about the session it saw. */
export function snapshot(session: Session<AppData>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const key of session.keys()) data[key] = session.get(key);
  return { id: session.id, isNew: session.isNew, userId: session.userId ?? null, data };
}

/** The path and query of a request. */
export function urlOf(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://app.test');
}

/**
 * The routes of the test app, each a typical use of the session:
 * `/read`; `/count` (n += 1); `/set?k=&v=`; `/regenerate` (then writes); `/login?user=` (redirects);
 * `/logout` (redirects); `/stream` (flushes its headers before writing the session).
 */
export const appHandler: SessionHandler<AppData> = async (req, res, session) => {
  const url = urlOf(req);
  switch (url.pathname) {
    case '/read':
      return sendJson(res, snapshot(session));
    case '/count': {
      const n = session.get('n');
      session.set('n', (typeof n === 'number' ? n : 0) + 1);
      return sendJson(res, snapshot(session));
    }
    case '/set':
      session.set(url.searchParams.get('k') ?? 'note', url.searchParams.get('v') ?? 'value');
      return sendJson(res, snapshot(session));
    case '/regenerate':
      await session.regenerate();
      session.set('note', 'after regenerate');
      return sendJson(res, snapshot(session));
    case '/login':
      await session.login(url.searchParams.get('user') ?? 'alice');
      session.set('note', 'logged in');
      res.writeHead(302, { location: '/account' });
      return res.end();
    case '/logout':
      await session.destroy();
      res.writeHead(302, { location: '/' });
      return res.end();
    case '/stream':
      session.set('note', 'streamed');
      res.setHeader('content-type', 'text/plain');
      await new Promise<void>((resolve) => res.write('first;', () => resolve()));
      return res.end('last');
    default:
      return sendJson(res, { error: 'not found' }, 404);
  }
};

/** A running app: its URL, a fresh browser for it, and how to stop it. */
export interface App extends AdapterHarness {
  browser(): Browser;
}

/** Serves `handler` through `withSession(manager)` on 127.0.0.1. */
export async function serve<Data extends AppData>(
  manager: SessionManager<Data>,
  handler: SessionHandler<Data>,
  options?: WithSessionOptions,
): Promise<App> {
  const harness = await listenHarness(createServer(withSession(manager, handler, options)));
  return { ...harness, browser: () => browser(harness.url) };
}

/** A store-backed manager over a spied memory store, a fake clock and a trusted proxy, with its app. */
export interface StoreApp extends App {
  manager: StoreSessionManager<AppData>;
  store: InstrumentedStore;
  clock: FakeClock;
}

/** Starts the test app on a store-backed manager (defaults unless `options` override them). */
export async function storeApp(
  options: Partial<SessionManagerOptions> = {},
  handler: SessionHandler<AppData> = appHandler,
  clock: FakeClock = createFakeClock(),
): Promise<StoreApp> {
  const store = instrumentStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
  const manager = createSessionManager<AppData>({ store, clock, trustProxy: true, ...options });
  const app = await serve(manager, handler);
  return {
    ...app,
    manager,
    store,
    clock,
    async close() {
      await app.close();
      await manager.close();
    },
  };
}

function isSessionEvent(message: unknown): message is SessionEvent {
  return (
    typeof message === 'object' && message !== null && 'type' in message && typeof message.type === 'string'
  );
}

/** Collects every sessionkit diagnostics event until `stop()`. */
export function recordEvents(): { events: SessionEvent[]; stop(): void } {
  const events: SessionEvent[] = [];
  const listener = (message: unknown) => {
    if (isSessionEvent(message)) events.push(structuredClone(message));
  };
  subscribe(DIAGNOSTICS_CHANNEL, listener);
  return { events, stop: () => unsubscribe(DIAGNOSTICS_CHANNEL, listener) };
}
