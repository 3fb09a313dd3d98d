/**
 * The conformance suite every framework adapter runs: the same framework-neutral routes, mounted
 * through the adapter by a small harness, checked with real HTTP requests.
 *
 * @module
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { tokenKey } from '../core/crypto.js';
import { createSessionManager, type StoreSessionManager } from '../core/manager.js';
import type { Session, SessionManager } from '../core/types.js';
import { createMemoryStore } from '../stores/memory.js';
import type { SessionStore } from '../stores/types.js';
import { createFakeClock, type FakeClock } from './fake-clock.js';
import { type InstrumentedStore, instrumentStore } from './instrumented-store.js';
import { type ConformanceRunner, suiteFor } from './runner.js';

/** The session data the conformance routes use. */
export type ConformanceData = { count: number; n: number; note: string };

/** What a route answers; the harness sends it the framework's way. */
export interface RouteResult {
  /** @default 200 */
  status?: number;
  /** Sent as JSON (`application/json`); `undefined` sends `null`. */
  body?: unknown;
  /** Headers the app sets, e.g. its own `Set-Cookie`; set them the framework's usual way. */
  headers?: Record<string, string>;
}

/** A conformance route: gets the request's session, answers a `RouteResult` (or throws). */
export type RouteHandler = (session: Session<ConformanceData>) => Promise<RouteResult> | RouteResult;

/**
 * A streaming route: the harness answers 200 with `text/plain`, calls `handler` with a `write`
 * that sends one chunk at once (flushing the headers), then ends the response with the string the
 * handler resolves to.
 */
export type StreamingHandler = (
  session: Session<ConformanceData>,
  write: (chunk: string) => Promise<void>,
) => Promise<string>;

/** The routes a harness mounts. Every route answers `GET`. */
export interface ConformanceRoutes {
  /** Mount each `GET <path>` through the adapter, keyed by path (e.g. `"/count"`). */
  session: Readonly<Record<string, RouteHandler>>;
  /** Mount `GET <path>` OUTSIDE the session scope, the framework's usual way of skipping the adapter. */
  plain: { path: string; handler: () => RouteResult };
  /** Mount `GET <path>` through the adapter when the suite runs with `streaming: true`. */
  streaming: { path: string; handler: StreamingHandler };
}

/** A running app: its base URL (`http://127.0.0.1:<port>`) and how to stop it. */
export interface AdapterHarness {
  url: string;
  close(): Promise<void>;
}

/** How `describeAdapterConformance` runs. */
export interface AdapterConformanceOptions {
  /** Skip the whole suite, with the reason shown in the report. @default false */
  skip?: false | string;
  /** Also check a route that flushes its headers before it changes the session. @default false */
  streaming?: boolean;
  /**
   * The runner to declare the tests with, e.g. Vitest's `{ describe, it, before: beforeAll, after: afterAll }`.
   * @default node:test
   */
  runner?: ConformanceRunner;
}

/** Mounts the routes on a fresh app that uses `manager`, listening on 127.0.0.1, port 0. */
export type MountAdapter = (
  manager: SessionManager<ConformanceData>,
  routes: ConformanceRoutes,
) => Promise<AdapterHarness>;

/**
 * Starts `server` on 127.0.0.1 (a free port) and resolves to its harness; `close` also drops
 * keep-alive connections.
 */
export function listenHarness(server: Server): Promise<AdapterHarness> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('the server is not listening on a TCP port'));
        return;
      }
      resolve({
        url: `http://127.0.0.1:${address.port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}

const WRITE_DELAY_MS = 200;

function count(session: Session<ConformanceData>): number {
  return session.get('count') ?? 0;
}

function snapshot(session: Session<ConformanceData>): RouteResult {
  return {
    body: {
      count: session.get('count') ?? null,
      n: session.get('n') ?? null,
      note: session.get('note') ?? null,
      isNew: session.isNew,
    },
  };
}

/** The routes every harness mounts. */
export const conformanceRoutes: ConformanceRoutes = {
  session: {
    '/read': snapshot,
    '/count': (session) => {
      session.set('count', count(session) + 1);
      return snapshot(session);
    },
    '/note': (session) => {
      session.set('note', 'saved');
      return snapshot(session);
    },
    '/increment': async (session) => ({ body: { n: await session.update('n', (n) => (n ?? 0) + 1) } }),
    '/regenerate': async (session) => {
      await session.regenerate();
      return snapshot(session);
    },
    '/destroy': async (session) => {
      await session.destroy();
      return { body: { destroyed: true } };
    },
    '/app-cookie': (session) => {
      session.set('note', 'with app cookie');
      return { headers: { 'set-cookie': 'app=1; Path=/; HttpOnly' }, body: { ok: true } };
    },
    '/boom': (session) => {
      session.set('note', 'half-written');
      throw new Error('conformance route failure');
    },
  },
  plain: { path: '/plain', handler: () => ({ body: { plain: true } }) },
  streaming: {
    path: '/stream',
    handler: async (session, write) => {
      session.set('count', count(session) + 1);
      await write('first;');
      session.set('note', 'streamed');
      return 'last';
    },
  },
};

interface Reply {
  status: number;
  text: string;
  headers: Headers;
  setCookies: string[];
  json(): Record<string, unknown>;
}

interface Context {
  harness: AdapterHarness;
  manager: StoreSessionManager<ConformanceData>;
  /** The memory store behind the spy (read directly to see what landed). */
  inner: SessionStore;
  spy: InstrumentedStore;
  clock: FakeClock;
}

/**
 * Declares `describe("<name> adapter conformance")`: builds a manager (memory store behind a
 * call-counting spy, a fake clock, `trustProxy: true`), lets `mount` start an app with the
 * conformance routes, and checks the adapter's behaviour with real HTTP requests that announce
 * HTTPS through `X-Forwarded-Proto`.
 * @example
 * describeAdapterConformance('node:http', async (manager, routes) => {
 *   const sessioned = withSession(manager, (req, res, session) => answer(routes, req, res, session));
 *   return listenHarness(createServer((req, res) => (req.url === routes.plain.path ? plain(res) : sessioned(req, res))));
 * });
 */
export function describeAdapterConformance(
  name: string,
  mount: MountAdapter,
  options: AdapterConformanceOptions = {},
): void {
  const suite = suiteFor(options.runner);
  suite.describe(
    `${name} adapter conformance`,
    () => {
      let current: Context | undefined;
      const ctx = (): Context => {
        if (current === undefined) throw new Error('the harness did not start');
        return current;
      };

      const start = async (): Promise<void> => {
        const clock = createFakeClock();
        const inner = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
        const spy = instrumentStore(inner);
        const manager = createSessionManager<ConformanceData>({
          store: spy,
          clock,
          trustProxy: true,
          rotateAfterSeconds: 900,
          rotationGraceSeconds: 60,
        });
        current = { harness: await mount(manager, conformanceRoutes), manager, inner, spy, clock };
      };
      const stop = async (): Promise<void> => {
        await current?.harness.close();
        await current?.manager.close();
        current = undefined;
      };
      const { hooks } = suite;
      hooks?.before(start);
      hooks?.after(stop);
      // One app for the whole group where the runner has before/after hooks, else one per test.
      const it = (title: string, body: () => Promise<void>, skip: string | false = false): void =>
        suite.it(
          title,
          async () => {
            if (hooks === undefined) await start();
            try {
              const { spy } = ctx();
              spy.failing.clear();
              spy.delayMs = 0;
              spy.reset();
              await body();
            } finally {
              if (hooks === undefined) await stop();
            }
          },
          skip,
        );

      /**
       * GETs `path` through the trusted proxy, which reports HTTPS (or plain HTTP with
       * `https: false`); `direct: true` sends it straight from this machine to 127.0.0.1.
       */
      async function get(
        path: string,
        init: { token?: string; https?: boolean; direct?: boolean } = {},
      ): Promise<Reply> {
        const headers: Record<string, string> = {};
        if (init.direct !== true) headers['x-forwarded-proto'] = init.https === false ? 'http' : 'https';
        if (init.token !== undefined) headers.cookie = `${ctx().manager.cookieName}=${init.token}`;
        const response = await fetch(ctx().harness.url + path, { headers, redirect: 'manual' });
        const text = await response.text();
        return {
          status: response.status,
          text,
          headers: response.headers,
          setCookies: response.headers.getSetCookie(),
          json: () => {
            const value: unknown = JSON.parse(text);
            assert.ok(typeof value === 'object' && value !== null, `not a JSON object: ${text}`);
            return { ...value };
          },
        };
      }

      function sessionCookies(reply: Reply): string[] {
        const prefix = `${ctx().manager.cookieName}=`;
        return reply.setCookies.filter((cookie) => cookie.startsWith(prefix));
      }

      /** The token of the one session cookie `reply` sets. */
      function tokenOf(reply: Reply): string {
        const cookies = sessionCookies(reply);
        assert.equal(cookies.length, 1, `expected exactly one session cookie, got ${cookies.length}`);
        const pair = String(cookies[0]).split(';', 1)[0] ?? '';
        return pair.slice(pair.indexOf('=') + 1);
      }

      /** A stored session with count 1; returns its token. */
      async function newSession(): Promise<string> {
        const reply = await get('/count');
        assert.equal(reply.status, 200);
        const token = tokenOf(reply);
        ctx().spy.reset();
        return token;
      }

      function assertNoStore(reply: Reply): void {
        assert.match(reply.headers.get('cache-control') ?? '', /\bno-store\b/);
      }

      it('sets exactly one secure session cookie and Cache-Control: no-store on a new session', async () => {
        const reply = await get('/count');
        assert.equal(reply.status, 200);
        assert.deepEqual(reply.json(), { count: 1, n: null, note: null, isNew: true });
        const cookies = sessionCookies(reply);
        assert.equal(cookies.length, 1);
        const [pair, ...attributes] = String(cookies[0]).split(/;\s*/);
        assert.match(pair ?? '', /^__Host-[^=]+=[A-Za-z0-9_-]{43}$/);
        assert.deepEqual(
          attributes.map((a) => a.toLowerCase()),
          ['path=/', 'secure', 'httponly', 'samesite=lax'],
        );
        assertNoStore(reply);
        assert.equal(ctx().spy.calls.set, 1);
        assert.equal(ctx().spy.total(), 1);
      });

      it('finds a returning session with one store read per request', async () => {
        const token = await newSession();
        const second = await get('/count', { token });
        assert.deepEqual(second.json(), { count: 2, n: null, note: null, isNew: false });
        assert.equal(sessionCookies(second).length, 0);
        assert.equal(ctx().spy.calls.get, 1);
        const third = await get('/count', { token });
        assert.equal(third.json().count, 3);
      });

      it('does no store I/O for a request without a cookie that leaves the session empty', async () => {
        const reply = await get('/read');
        assert.deepEqual(reply.json(), { count: null, n: null, note: null, isNew: true });
        assert.deepEqual(reply.setCookies, []);
        assert.equal(ctx().spy.total(), 0);
      });

      it('gives a fresh session for a tampered cookie', async () => {
        const token = await newSession();
        const tampered = (token.startsWith('A') ? 'B' : 'A') + token.slice(1);
        const reply = await get('/count', { token: tampered });
        assert.deepEqual(reply.json(), { count: 1, n: null, note: null, isNew: true });
        const fresh = tokenOf(reply);
        assert.notEqual(fresh, tampered);
        assert.notEqual(fresh, token);
        assert.equal((await get('/read', { token })).json().count, 1);
      });

      it('does no store I/O for a malformed cookie and leaves it alone (a newer cookie may be on its way)', async () => {
        const reply = await get('/read', { token: 'not-a-token' });
        assert.equal(reply.json().isNew, true);
        assert.equal(ctx().spy.total(), 0);
        assert.deepEqual(sessionCookies(reply), []);
      });

      it('clears the cookie on destroy() and treats a replay as anonymous', async () => {
        const token = await newSession();
        const reply = await get('/destroy', { token });
        assert.equal(reply.status, 200);
        const cookies = sessionCookies(reply);
        assert.equal(cookies.length, 1);
        assert.match(cookies[0] ?? '', /^__Host-[^=]+=;.*Max-Age=0/i);
        assertNoStore(reply);
        const replay = await get('/read', { token });
        assert.deepEqual(replay.json(), { count: null, n: null, note: null, isNew: true });
      });

      it('issues a new token on regenerate() and the old token is dead', async () => {
        const token = await newSession();
        const reply = await get('/regenerate', { token });
        const renewed = tokenOf(reply);
        assert.notEqual(renewed, token);
        assertNoStore(reply);
        assert.deepEqual((await get('/read', { token: renewed })).json(), {
          count: 1,
          n: null,
          note: null,
          isNew: false,
        });
        assert.equal((await get('/read', { token })).json().isNew, true);
        // The old record is retired: no data, only the (unfollowable) link a revocation needs.
        const retired = await ctx().inner.get(tokenKey(token));
        assert.deepEqual([retired?.data, retired?.meta.successor?.regenerated], [{}, true]);
      });

      it('re-issues the cookie when the token is due for rotation', async () => {
        const token = await newSession();
        ctx().clock.advanceSeconds(901);
        const reply = await get('/read', { token });
        assert.equal(reply.json().count, 1);
        const rotated = tokenOf(reply);
        assert.notEqual(rotated, token);
        assertNoStore(reply);
        const inGrace = await get('/count', { token });
        assert.equal(inGrace.json().count, 2);
        assert.equal(tokenOf(inGrace), rotated);
        assert.equal((await get('/read', { token: rotated })).json().count, 2);
      });

      it('ends update() from 20 parallel requests at exactly 20', async () => {
        const token = await newSession();
        const replies = await Promise.all(Array.from({ length: 20 }, () => get('/increment', { token })));
        assert.deepEqual(
          replies.map((r) => r.status),
          replies.map(() => 200),
        );
        const written = replies.map((r) => Number(r.json().n)).sort((a, b) => a - b);
        assert.deepEqual(
          written,
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        assert.equal((await get('/read', { token })).json().n, 20);
      });

      it('appends the session cookie to the Set-Cookie headers the app sets', async () => {
        const created = await get('/app-cookie');
        assert.ok(created.setCookies.includes('app=1; Path=/; HttpOnly'), created.setCookies.join(' | '));
        const token = tokenOf(created);
        assertNoStore(created);
        const again = await get('/app-cookie', { token });
        assert.deepEqual(again.setCookies, ['app=1; Path=/; HttpOnly']);
      });

      it('answers 503 without Set-Cookie when the store fails to load', async () => {
        const token = await newSession();
        ctx().spy.failing.add('get');
        const reply = await get('/read', { token });
        assert.equal(reply.status, 503);
        assert.deepEqual(reply.setCookies, []);
        assert.ok(!reply.text.includes(token), 'the response body holds the token');
      });

      it('answers 503 without Set-Cookie when the store fails to commit', async () => {
        ctx().spy.failing.add('set');
        const created = await get('/app-cookie');
        assert.equal(created.status, 503);
        // The request failed: the app's own cookies (e.g. a "logged in" hint) must not go out either.
        assert.deepEqual(
          created.setCookies,
          [],
          'a failed commit voids the whole response, app cookies included',
        );
        ctx().spy.failing.clear();
        const token = await newSession();
        ctx().spy.failing.add('patch');
        const changed = await get('/note', { token });
        assert.equal(changed.status, 503);
        assert.deepEqual(changed.setCookies, []);
        ctx().spy.failing.clear();
        assert.equal((await get('/read', { token })).json().note, null);
      });

      it('does no store I/O on a route outside the session scope', async () => {
        const token = await newSession();
        const reply = await get(conformanceRoutes.plain.path, { token });
        assert.equal(reply.status, 200);
        assert.deepEqual(reply.json(), { plain: true });
        assert.deepEqual(reply.setCookies, []);
        assert.equal(ctx().spy.total(), 0);
      });

      it('persists nothing a throwing handler set', async () => {
        const fresh = await get('/boom');
        assert.ok(fresh.status >= 500, `status ${fresh.status}`);
        assert.deepEqual(sessionCookies(fresh), []);
        assert.equal(ctx().spy.total(), 0);
        const token = await newSession();
        const reply = await get('/boom', { token });
        assert.ok(reply.status >= 500, `status ${reply.status}`);
        assert.deepEqual(sessionCookies(reply), []);
        assert.equal(ctx().spy.calls.patch + ctx().spy.calls.set, 0);
        assert.equal((await get('/read', { token })).json().note, null);
      });

      it('sets no cookie on a plain-HTTP request (SEC-17)', async () => {
        const reply = await get('/count', { https: false });
        assert.equal(reply.status, 200);
        assert.deepEqual(reply.setCookies, []);
        assert.equal(ctx().spy.calls.set, 0);
      });

      it('sets the Secure cookie on a plain-HTTP request from this machine to a loopback host', async () => {
        const reply = await get('/count', { direct: true });
        assert.equal(reply.status, 200);
        assert.match(sessionCookies(reply)[0] ?? '', /; Secure/);
        const token = tokenOf(reply);
        assert.equal((await get('/read', { token, direct: true })).json().count, 1);
      });

      it('finishes the response only after the write has landed', async () => {
        const token = await newSession();
        ctx().spy.delayMs = WRITE_DELAY_MS;
        const reply = await get('/note', { token });
        assert.equal(reply.json().note, 'saved');
        const stored = await ctx().inner.get(tokenKey(token));
        assert.equal(stored?.data.note, 'saved');
      });

      it(
        'carries the cookie on a response that flushes its headers early and persists the data before it ends',
        async () => {
          ctx().spy.delayMs = WRITE_DELAY_MS;
          const reply = await get(conformanceRoutes.streaming.path);
          assert.equal(reply.status, 200);
          assert.equal(reply.text, 'first;last');
          const token = tokenOf(reply);
          assertNoStore(reply);
          const stored = await ctx().inner.get(tokenKey(token));
          assert.deepEqual(stored?.data, { count: 1, note: 'streamed' });
          ctx().spy.delayMs = 0;
          const next = await get('/read', { token });
          assert.deepEqual(next.json(), { count: 1, n: null, note: 'streamed', isNew: false });
        },
        options.streaming ? false : 'the harness does not mount the streaming route',
      );
    },
    options.skip ?? false,
  );
}
