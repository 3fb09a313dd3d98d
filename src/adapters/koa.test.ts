import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import Koa, { type Context, type DefaultState } from 'koa';
import { createSessionManager, type StoreSessionManager } from '../core/manager.js';
import { isSessionError } from '../errors.js';
import { createMemoryStore } from '../stores/memory.js';
import {
  type AdapterHarness,
  type ConformanceData,
  describeAdapterConformance,
  listenHarness,
  type MountAdapter,
  type RouteResult,
} from '../testing/adapter-conformance.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { type InstrumentedStore, instrumentStore } from '../testing/instrumented-store.js';
import { type SessionContext, sessionMiddleware } from './koa.js';

// `koa2` is koa@2 installed under an npm alias; it has no type declarations of its own and
// shares Koa 3's API for everything the adapter and this harness touch.
const Koa2: typeof Koa = createRequire(import.meta.url)('koa2');

function send(ctx: Context, result: RouteResult): void {
  ctx.status = result.status ?? 200;
  for (const [name, value] of Object.entries(result.headers ?? {})) ctx.append(name, value);
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(result.body ?? null);
}

function mountOn(App: typeof Koa): MountAdapter {
  return async (manager, routes) => {
    const app = new App<DefaultState, SessionContext<ConformanceData>>();
    // Koa's default error handler logs every 5xx unless the app is silent.
    app.silent = true;
    // A route answered before the session middleware never reaches it.
    app.use(async (ctx, next) => {
      if (ctx.path === routes.plain.path) send(ctx, routes.plain.handler());
      else await next();
    });
    app.use(sessionMiddleware(manager));
    app.use(async (ctx) => {
      const handler = routes.session[ctx.path];
      if (handler === undefined) ctx.status = 404;
      else send(ctx, await handler(ctx.session));
    });
    return listenHarness(createServer(app.callback()));
  };
}

describeAdapterConformance('Koa 3', mountOn(Koa));
describeAdapterConformance('Koa 2', mountOn(Koa2));

describe('sessionMiddleware (sessionkit/koa)', () => {
  let manager: StoreSessionManager<ConformanceData>;
  let spy: InstrumentedStore;
  let harness: AdapterHarness;
  const seen: string[] = [];

  const get = (path: string, token?: string) => {
    const headers: Record<string, string> = { 'x-forwarded-proto': 'https' };
    if (token !== undefined) headers.cookie = `${manager.cookieName}=${token}`;
    return fetch(harness.url + path, { headers });
  };
  const tokenOf = (response: Response) => {
    const prefix = `${manager.cookieName}=`;
    const cookies = response.headers.getSetCookie().filter((c) => c.startsWith(prefix));
    assert.equal(cookies.length, 1, response.headers.getSetCookie().join(' | '));
    return (cookies[0] ?? '').slice(prefix.length).split(';', 1)[0] ?? '';
  };

  before(async () => {
    const clock = createFakeClock();
    spy = instrumentStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
    manager = createSessionManager<ConformanceData>({ store: spy, clock, trustProxy: true });
    const app = new Koa().use(sessionMiddleware(manager)).use(async (ctx) => {
      if (ctx.path === '/count') {
        ctx.session.set('count', (ctx.session.get('count') ?? 0) + 1);
        ctx.body = { count: ctx.session.get('count') };
      } else if (ctx.path === '/redirect') {
        ctx.session.set('note', 'redirected');
        ctx.set('Cache-Control', 'public, max-age=60');
        ctx.redirect('/count');
      } else if (ctx.path === '/upstream-down') {
        ctx.session.set('note', 'unsaved');
        ctx.status = 502;
      }
    });
    app.silent = true;
    app.on('error', (error: unknown) => {
      seen.push(isSessionError(error) ? error.code : 'other');
    });
    harness = await listenHarness(createServer(app.callback()));
  });

  after(async () => {
    await harness.close();
    await manager.close();
  });

  it('adds the cookie and Cache-Control: no-store to a redirect', async () => {
    const reply = await fetch(`${harness.url}/redirect`, {
      headers: { 'x-forwarded-proto': 'https' },
      redirect: 'manual',
    });
    assert.equal(reply.status, 302);
    assert.equal(reply.headers.get('location'), '/count');
    assert.equal(reply.headers.get('cache-control'), 'no-store');
    tokenOf(reply);
  });

  it('saves nothing for a 5xx response the app sets itself', async () => {
    const token = tokenOf(await get('/count'));
    spy.reset();
    const reply = await get('/upstream-down', token);
    assert.equal(reply.status, 502);
    assert.deepEqual(reply.headers.getSetCookie(), []);
    assert.equal(spy.calls.patch + spy.calls.set, 0);
  });

  it("emits a store failure on the app's error event as ERR_SESSION_STORE with status 503", async () => {
    const token = tokenOf(await get('/count'));
    seen.length = 0;
    spy.failing.add('get');
    try {
      const reply = await get('/count', token);
      assert.equal(reply.status, 503);
      assert.equal(await reply.text(), 'Service Unavailable');
    } finally {
      spy.failing.clear();
    }
    assert.deepEqual(seen, ['ERR_SESSION_STORE']);
  });
});
