/**
 * Adapter conformance: the app a harness mounts (memory store behind a spy, fake clock, trusted
 * proxy), how each test gets it, and the HTTP client the topics check it with.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createSessionManager, type StoreSessionManager } from '../../core/manager.js';
import type { SessionManager } from '../../core/types.js';
import { createMemoryStore } from '../../stores/memory.js';
import type { SessionStore } from '../../stores/types.js';
import { createFakeClock, type FakeClock } from '../fake-clock.js';
import { type InstrumentedStore, instrumentStore } from '../instrumented-store.js';
import type { Suite } from '../runner.js';
import { type ConformanceData, type ConformanceRoutes, conformanceRoutes } from './routes.js';

/** A running app: its base URL (`http://127.0.0.1:<port>`) and how to stop it. */
export interface AdapterHarness {
  url: string;
  close(): Promise<void>;
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

/** A response as the topics read it. */
export interface Reply {
  status: number;
  text: string;
  headers: Headers;
  setCookies: string[];
  json(): Record<string, unknown>;
}

/** The app under test. */
export interface Context {
  harness: AdapterHarness;
  manager: StoreSessionManager<ConformanceData>;
  /** The memory store behind the spy (read directly to see what landed). */
  inner: SessionStore;
  spy: InstrumentedStore;
  clock: FakeClock;
}

/** What every topic of the adapter suite is given. */
export interface AdapterSuite {
  /** Declares a test that runs against a started app, its spy reset. */
  it(title: string, body: () => Promise<void>, skip?: string | false): void;
  /** The app of the running test. */
  ctx(): Context;
  /**
   * GETs `path` through the trusted proxy, which reports HTTPS (or plain HTTP with
   * `https: false`); `direct: true` sends it straight from this machine to 127.0.0.1.
   */
  get(path: string, init?: { token?: string; https?: boolean; direct?: boolean }): Promise<Reply>;
  /** The session cookies `reply` sets. */
  sessionCookies(reply: Reply): string[];
  /** The token of the one session cookie `reply` sets. */
  tokenOf(reply: Reply): string;
  /** A stored session with count 1; returns its token. */
  newSession(): Promise<string>;
  assertNoStore(reply: Reply): void;
}

/** Sets up the app for the tests of the enclosing `describe` (call it inside the group's body). */
export function adapterSuite(suite: Suite, mount: MountAdapter): AdapterSuite {
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

  function tokenOf(reply: Reply): string {
    const cookies = sessionCookies(reply);
    assert.equal(cookies.length, 1, `expected exactly one session cookie, got ${cookies.length}`);
    const pair = String(cookies[0]).split(';', 1)[0] ?? '';
    return pair.slice(pair.indexOf('=') + 1);
  }

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

  return { it, ctx, get, sessionCookies, tokenOf, newSession, assertNoStore };
}
