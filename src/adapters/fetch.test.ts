import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { createSessionManager, type StoreSessionManager } from '../core/manager.js';
import { SessionStoreError } from '../errors.js';
import { createMemoryStore } from '../stores/memory.js';
import {
  type ConformanceData,
  describeAdapterConformance,
  listenHarness,
  type RouteResult,
} from '../testing/adapter-conformance.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { type InstrumentedStore, instrumentStore } from '../testing/instrumented-store.js';
import { withSession } from './fetch.js';

function send(result: RouteResult): Response {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const [name, value] of Object.entries(result.headers ?? {})) headers.append(name, value);
  return new Response(JSON.stringify(result.body ?? null), { status: result.status ?? 200, headers });
}

// @hono/node-server is the Fetch API server here (Request in, Response out), as Bun.serve or
// Deno.serve would be; a thrown handler error becomes a bare 500, as those runtimes answer.
describeAdapterConformance('fetch (Request → Response)', async (manager, routes) => {
  const sessioned = withSession(manager, async (request, session) => {
    const handler = routes.session[new URL(request.url).pathname];
    return handler === undefined ? new Response(null, { status: 404 }) : send(await handler(session));
  });
  const server = createAdaptorServer({
    fetch: async (request: Request) => {
      if (new URL(request.url).pathname === routes.plain.path) return send(routes.plain.handler());
      try {
        return await sessioned(request);
      } catch {
        return new Response('Internal Server Error', { status: 500 });
      }
    },
  });
  if (!('closeAllConnections' in server)) throw new Error('expected an http.Server');
  return listenHarness(server);
});

describe('withSession (sessionkit/fetch)', () => {
  let manager: StoreSessionManager<ConformanceData>;
  let spy: InstrumentedStore;

  const cookie = (token: string) => `${manager.cookieName}=${token}`;
  const tokenOf = (response: Response) => {
    const prefix = `${manager.cookieName}=`;
    const cookies = response.headers.getSetCookie().filter((c) => c.startsWith(prefix));
    assert.equal(cookies.length, 1, response.headers.getSetCookie().join(' | '));
    return (cookies[0] ?? '').slice(prefix.length).split(';', 1)[0] ?? '';
  };
  const counter = () =>
    withSession(manager, (_request, session) => {
      session.set('count', (session.get('count') ?? 0) + 1);
      return Response.json({ count: session.get('count') });
    });

  before(() => {
    const clock = createFakeClock();
    spy = instrumentStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
    manager = createSessionManager<ConformanceData>({ store: spy, clock });
  });

  after(() => manager.close());

  it('takes the protocol from the request URL: a cookie for https:, none for http: (SEC-17)', async () => {
    const handler = counter();
    const secure = await handler(new Request('https://example.com/'));
    const token = tokenOf(secure);
    assert.equal(secure.headers.get('cache-control'), 'no-store');
    const again = await handler(new Request('https://example.com/', { headers: { cookie: cookie(token) } }));
    assert.deepEqual(await again.json(), { count: 2 });
    const plain = await handler(new Request('http://example.com/'));
    assert.deepEqual(plain.headers.getSetCookie(), []);
  });

  it('reads the session from every Cookie header of the request', async () => {
    const handler = counter();
    const token = tokenOf(await handler(new Request('https://example.com/')));
    const headers = new Headers();
    headers.append('cookie', 'theme=dark');
    headers.append('cookie', cookie(token));
    const reply = await handler(new Request('https://example.com/', { headers }));
    assert.deepEqual(await reply.json(), { count: 2 });
  });

  it('copies a response with immutable headers to add the cookie', async () => {
    const handler = withSession(manager, (_request, session) => {
      session.set('note', 'redirected');
      return Response.redirect('https://example.com/next', 303);
    });
    const reply = await handler(new Request('https://example.com/'));
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.get('location'), 'https://example.com/next');
    assert.equal(reply.headers.get('cache-control'), 'no-store');
    tokenOf(reply);
  });

  it('keeps the Set-Cookie headers of the response and appends its own', async () => {
    const handler = withSession(manager, (_request, session) => {
      session.set('note', 'x');
      const headers = new Headers([
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
      ]);
      return new Response('ok', { headers });
    });
    const reply = await handler(new Request('https://example.com/'));
    assert.deepEqual(reply.headers.getSetCookie().slice(0, 2), ['a=1', 'b=2']);
    tokenOf(reply);
  });

  it('lets a thrown handler error propagate and saves nothing', async () => {
    const handler = withSession(manager, (_request, session) => {
      session.set('note', 'half-written');
      throw new Error('handler failure');
    });
    spy.reset();
    await assert.rejects(handler(new Request('https://example.com/')), /handler failure/);
    assert.equal(spy.total(), 0);
  });

  it('answers a store failure with a plain 503 and no cookie by default', async () => {
    const handler = counter();
    const token = tokenOf(await handler(new Request('https://example.com/')));
    spy.failing.add('get');
    try {
      const reply = await handler(
        new Request('https://example.com/', { headers: { cookie: cookie(token) } }),
      );
      assert.equal(reply.status, 503);
      assert.equal(await reply.text(), 'Service Unavailable');
      assert.deepEqual(reply.headers.getSetCookie(), []);
    } finally {
      spy.failing.clear();
    }
  });

  it('passes load and commit failures to onError', async () => {
    const seen: string[] = [];
    const handler = withSession(
      manager,
      (_request, session) => {
        session.set('note', 'x');
        return new Response('ok', { headers: { 'set-cookie': 'app=1' } });
      },
      {
        onError(error, request) {
          seen.push(error instanceof SessionStoreError ? `${error.operation} ${request.method}` : 'other');
          return new Response('custom', { status: 599 });
        },
      },
    );
    spy.failing.add('set');
    try {
      const reply = await handler(new Request('https://example.com/'));
      assert.equal(reply.status, 599);
      assert.deepEqual(reply.headers.getSetCookie(), []);
    } finally {
      spy.failing.clear();
    }
    const token = tokenOf(await counter()(new Request('https://example.com/')));
    spy.failing.add('get');
    try {
      const reply = await handler(
        new Request('https://example.com/', { headers: { cookie: cookie(token) } }),
      );
      assert.equal(await reply.text(), 'custom');
    } finally {
      spy.failing.clear();
    }
    assert.deepEqual(seen, ['set GET', 'get GET']);
  });
});
