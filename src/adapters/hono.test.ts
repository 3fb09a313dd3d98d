import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { createSessionManager, type StoreSessionManager } from '../core/manager.js';
import { isSessionError, SessionStoreError } from '../errors.js';
import { createMemoryStore } from '../stores/memory.js';
import {
  type ConformanceData,
  describeAdapterConformance,
  listenHarness,
  type RouteResult,
} from '../testing/adapter-conformance.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { type InstrumentedStore, instrumentStore } from '../testing/instrumented-store.js';
import { type SessionEnv, sessionMiddleware } from './hono.js';

/** The route's answer as a Response (Hono sends what a handler returns). */
function send(result: RouteResult): Response {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const [name, value] of Object.entries(result.headers ?? {})) headers.append(name, value);
  return new Response(JSON.stringify(result.body ?? null), { status: result.status ?? 200, headers });
}

function serverOf(app: Hono<SessionEnv<ConformanceData>>): Server {
  const server = createAdaptorServer({ fetch: app.fetch });
  // @hono/node-server gives an http.Server unless asked for http2.
  if (!('closeAllConnections' in server)) throw new Error('expected an http.Server');
  return server;
}

describeAdapterConformance('hono (@hono/node-server)', async (manager, routes) => {
  const app = new Hono<SessionEnv<ConformanceData>>();
  // Registered before the middleware: Hono runs handlers in registration order, so it never runs.
  app.get(routes.plain.path, () => send(routes.plain.handler()));
  app.use(sessionMiddleware(manager));
  for (const [path, handler] of Object.entries(routes.session)) {
    app.get(path, async (c) => send(await handler(c.get('session'))));
  }
  app.onError((error, c) => c.text('failed', isSessionError(error) ? 503 : 500));
  return listenHarness(serverOf(app));
});

interface Fixture {
  manager: StoreSessionManager<ConformanceData>;
  spy: InstrumentedStore;
  /** The session token a response sets. */
  tokenOf(response: Response): string;
  cookie(token: string): string;
}

function fixture(): Fixture {
  const clock = createFakeClock();
  const spy = instrumentStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
  const manager = createSessionManager<ConformanceData>({ store: spy, clock, trustProxy: true });
  return {
    manager,
    spy,
    tokenOf(response) {
      const prefix = `${manager.cookieName}=`;
      const cookies = response.headers.getSetCookie().filter((c) => c.startsWith(prefix));
      assert.equal(cookies.length, 1, response.headers.getSetCookie().join(' | '));
      return (cookies[0] ?? '').slice(prefix.length).split(';', 1)[0] ?? '';
    },
    cookie: (token) => `${manager.cookieName}=${token}`,
  };
}

describe('sessionMiddleware (sessionkit/hono) with app.request()', () => {
  let f: Fixture;
  let app: Hono<SessionEnv<ConformanceData>>;

  before(() => {
    f = fixture();
    app = new Hono<SessionEnv<ConformanceData>>();
    app.get('/public', (c) => c.text('public'));
    app.use('/app/*', sessionMiddleware(f.manager));
    app.get('/app/count', (c) => {
      const session = c.get('session');
      session.set('count', (session.get('count') ?? 0) + 1);
      return c.json({ count: session.get('count') });
    });
    app.get('/app/redirect', (c) => {
      c.get('session').set('note', 'redirected');
      return Response.redirect('https://example.com/next', 303);
    });
    app.get('/app/app-cookie', (c) => {
      c.header('Set-Cookie', 'app=1; Path=/', { append: true });
      c.get('session').set('note', 'x');
      return c.text('ok');
    });
  });

  after(() => f.manager.close());

  it('sets the cookie for an https: request URL and none for http: (SEC-17)', async () => {
    const secure = await app.request('https://example.com/app/count');
    assert.deepEqual(await secure.json(), { count: 1 });
    const token = f.tokenOf(secure);
    assert.equal(secure.headers.get('cache-control'), 'no-store');
    const again = await app.request('https://example.com/app/count', {
      headers: { cookie: f.cookie(token) },
    });
    assert.deepEqual(await again.json(), { count: 2 });
    const plain = await app.request('http://example.com/app/count');
    assert.deepEqual(plain.headers.getSetCookie(), []);
  });

  it('reads the session from every Cookie header of the request', async () => {
    const token = f.tokenOf(await app.request('https://example.com/app/count'));
    const headers = new Headers();
    headers.append('cookie', 'theme=dark');
    headers.append('cookie', f.cookie(token));
    const reply = await app.request('https://example.com/app/count', { headers });
    assert.deepEqual(await reply.json(), { count: 2 });
  });

  it('does no store I/O on a path the middleware is not mounted on', async () => {
    const token = f.tokenOf(await app.request('https://example.com/app/count'));
    f.spy.reset();
    const reply = await app.request('https://example.com/public', { headers: { cookie: f.cookie(token) } });
    assert.equal(await reply.text(), 'public');
    assert.equal(f.spy.total(), 0);
  });

  it('adds the cookie to a handler response with immutable headers', async () => {
    const reply = await app.request('https://example.com/app/redirect');
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.get('location'), 'https://example.com/next');
    f.tokenOf(reply);
  });

  it("answers a store failure with the error's status through Hono's default error handler", async () => {
    const token = f.tokenOf(await app.request('https://example.com/app/count'));
    f.spy.failing.add('get');
    try {
      const reply = await app.request('https://example.com/app/count', {
        headers: { cookie: f.cookie(token) },
      });
      assert.equal(reply.status, 503);
      assert.deepEqual(reply.headers.getSetCookie(), []);
    } finally {
      f.spy.failing.clear();
    }
  });

  it('drops the app headers when the commit fails', async () => {
    f.spy.failing.add('set');
    try {
      const reply = await app.request('https://example.com/app/app-cookie');
      assert.equal(reply.status, 503);
      assert.deepEqual(reply.headers.getSetCookie(), []);
    } finally {
      f.spy.failing.clear();
    }
  });

  it('gives app.onError the session error with its class and code', async () => {
    const seen: string[] = [];
    const custom = new Hono<SessionEnv<ConformanceData>>();
    custom.use(sessionMiddleware(f.manager));
    custom.get('/', (c) => c.text(String(c.get('session').get('count'))));
    custom.onError((error, c) => {
      seen.push(error instanceof SessionStoreError ? `${error.code} ${error.store}` : 'other');
      return c.text('custom', 500);
    });
    const token = f.tokenOf(await app.request('https://example.com/app/count'));
    f.spy.failing.add('get');
    try {
      const reply = await custom.request('https://example.com/', { headers: { cookie: f.cookie(token) } });
      assert.equal(await reply.text(), 'custom');
    } finally {
      f.spy.failing.clear();
    }
    assert.deepEqual(seen, ['ERR_SESSION_STORE memory']);
  });
});
