import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { createCookieSessionManager } from '../cookie-session.js';
import { createSessionManager, type StoreSessionManager } from '../core/manager.js';
import type { SessionManager } from '../core/types.js';
import { isSessionError } from '../errors.js';
import { createMemoryStore } from '../stores/memory.js';
import {
  type ConformanceData,
  describeAdapterConformance,
  listenHarness,
  type RouteResult,
} from '../testing/adapter-conformance.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { type InstrumentedStore, instrumentStore } from '../testing/instrumented-store.js';
import type { SetCookieFields } from './internal/set-cookie.js';
import { createNextSessions, type NextCookieStore, type NextRequestApis, readSession } from './next.js';

// A stand-in for `next/headers` that behaves as Next.js 16 does (the real one runs in the example's
// browser test): in an action or route handler `cookies()` is a mutable store whose changes become
// the response's Set-Cookie; while a Server Component renders its `set`/`delete` throw.
interface FakeRequest {
  apis: NextRequestApis;
  /** The cookies the response sets, by name. */
  sent: Map<string, SetCookieFields>;
  /** Next.js 16 after an action: the page renders with the action's cookies, read-only. */
  renderAfterAction(): void;
}

function fakeRequest(cookieHeader: string | undefined, phase: 'action' | 'render'): FakeRequest {
  const sent = new Map<string, SetCookieFields>();
  const jar = new Map<string, string>();
  for (const pair of cookieHeader?.split('; ') ?? []) {
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  let mutable = phase === 'action';
  const refuse = () => {
    throw new Error('Cookies can only be modified in a Server Action or Route Handler.');
  };
  let store: NextCookieStore;
  const build = (): NextCookieStore => ({
    getAll: () => [...jar].map(([name, value]) => ({ name, value })),
    set: (cookie) => {
      if (!mutable) refuse();
      sent.set(cookie.name, cookie);
      jar.set(cookie.name, cookie.value);
    },
    delete: (name) => {
      if (!mutable) refuse();
      sent.set(name, { name, value: '', expires: new Date(0) });
      jar.set(name, '');
    },
  });
  store = build();
  const headers = new Headers({ 'x-forwarded-proto': 'https', 'user-agent': 'test' });
  if (cookieHeader !== undefined) headers.set('cookie', cookieHeader);
  return {
    apis: { cookies: async () => store, headers: async () => headers },
    sent,
    renderAfterAction: () => {
      mutable = false;
      store = build();
    },
  };
}

/** The `Cookie` header a browser sends after `previous` (a header) and the cookies a response set. */
function browserAfter(previous: string | undefined, sent: Map<string, SetCookieFields>): string | undefined {
  const jar = new Map<string, string>();
  for (const pair of previous?.split('; ') ?? [])
    jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
  for (const cookie of sent.values()) {
    const expired = cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() <= 0);
    if (expired || cookie.value === '') jar.delete(cookie.name);
    else jar.set(cookie.name, cookie.value);
  }
  return jar.size === 0 ? undefined : [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

function sessionCookies(sent: Map<string, SetCookieFields>, manager: SessionManager<ConformanceData>) {
  return [...sent.values()].filter((cookie) => cookie.name.startsWith(manager.cookieName));
}

describe('createNextSessions (sessionkit/next) with a store', () => {
  const clock = createFakeClock();
  const spy: InstrumentedStore = instrumentStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
  const manager: StoreSessionManager<ConformanceData> = createSessionManager<ConformanceData>({
    store: spy,
    clock,
  });

  beforeEach(() => {
    spy.failing.clear();
    spy.reset();
  });
  after(() => manager.close());

  /** A cookie header for a stored session with count 1. */
  async function signedIn(): Promise<string> {
    const request = fakeRequest(undefined, 'action');
    await createNextSessions(manager, request.apis).change((session) => session.set('count', 1));
    const header = browserAfter(undefined, request.sent);
    assert.ok(header !== undefined);
    spy.reset();
    return header;
  }

  it('sets the new session cookie through cookies().set with the manager attributes, one store write', async () => {
    const request = fakeRequest(undefined, 'action');
    const result = await createNextSessions(manager, request.apis).change((session) => {
      session.set('count', 1);
      return 'done';
    });
    assert.equal(result, 'done');
    const [cookie, ...others] = sessionCookies(request.sent, manager);
    assert.equal(others.length, 0);
    assert.match(cookie?.value ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(
      { ...cookie, value: '' },
      { name: '__Host-sid', value: '', path: '/', secure: true, httpOnly: true, sameSite: 'lax' },
    );
    assert.equal(spy.calls.set, 1);
    assert.equal(spy.total(), 1);
  });

  it('saves a change of a returning session with one read and one patch, setting no session cookie', async () => {
    const header = await signedIn();
    const request = fakeRequest(header, 'action');
    await createNextSessions(manager, request.apis).change((session) => session.set('count', 2));
    assert.deepEqual(sessionCookies(request.sent, manager), []);
    assert.deepEqual(
      { get: spy.calls.get, patch: spy.calls.patch, total: spy.total() },
      { get: 1, patch: 1, total: 2 },
    );
    const later = fakeRequest(header, 'render');
    assert.equal((await createNextSessions(manager, later.apis).read()).get('count'), 2);
  });

  it('reads in a Server Component with one store read however many components ask, and none without a cookie', async () => {
    const header = await signedIn();
    const sessions = createNextSessions(manager, fakeRequest(header, 'render').apis);
    const [a, b, c] = await Promise.all([sessions.read(), sessions.read(), sessions.read()]);
    assert.deepEqual([a.get('count'), b.get('count'), c.get('count'), a.isNew], [1, 1, 1, false]);
    assert.equal(spy.calls.get, 1);
    const anonymous = await createNextSessions(manager, fakeRequest(undefined, 'render').apis).read();
    assert.equal(anonymous.isNew, true);
    assert.equal(spy.calls.get, 1);
  });

  it('refuses a change during a Server Component render with ERR_SESSION_STATE before any store I/O', async () => {
    const header = await signedIn();
    const request = fakeRequest(header, 'render');
    let ran = false;
    await assert.rejects(
      createNextSessions(manager, request.apis).change(async (session) => {
        ran = true;
        await session.regenerate();
      }),
      (error) =>
        isSessionError(error) && error.code === 'ERR_SESSION_STATE' && /Server Component/.test(error.message),
    );
    assert.equal(ran, false);
    assert.equal(spy.total(), 0);
    assert.equal(
      (await createNextSessions(manager, fakeRequest(header, 'render').apis).read()).get('count'),
      1,
    );
  });

  it('gives read() no way to change the session (a JavaScript caller gets ERR_SESSION_STATE)', async () => {
    const header = await signedIn();
    const session: object = await createNextSessions(manager, fakeRequest(header, 'action').apis).read();
    for (const name of [
      'set',
      'delete',
      'update',
      'regenerate',
      'login',
      'destroy',
      'flash',
      'consumeFlash',
      'csrfToken',
    ]) {
      const method: unknown = Reflect.get(session, name);
      if (typeof method !== 'function') assert.fail(`${name} is missing`);
      assert.throws(
        () => Reflect.apply(method, session, ['count', 5]),
        (e) => isSessionError(e) && e.code === 'ERR_SESSION_STATE',
      );
    }
    assert.equal(spy.total(), 1);
  });

  it('shows a login to the page Next.js renders after the action, and the old cookie is anonymous', async () => {
    const header = await signedIn();
    const request = fakeRequest(header, 'action');
    const sessions = createNextSessions(manager, request.apis);
    assert.equal((await sessions.read()).userId, undefined);
    await sessions.change((session) => session.login('ada'));
    request.renderAfterAction();
    const page = await sessions.read();
    assert.deepEqual([page.userId, page.get('count')], ['ada', 1]);
    const replay = await createNextSessions(manager, fakeRequest(header, 'render').apis).read();
    assert.deepEqual([replay.isNew, replay.userId], [true, undefined]);
    const renewed = browserAfter(header, request.sent);
    assert.notEqual(renewed, header);
    assert.equal(
      (await createNextSessions(manager, fakeRequest(renewed, 'render').apis).read()).userId,
      'ada',
    );
  });

  it('clears the cookie on destroy() and the page after the action sees no session', async () => {
    const header = await signedIn();
    const request = fakeRequest(header, 'action');
    const sessions = createNextSessions(manager, request.apis);
    await sessions.change((session) => session.destroy());
    const cleared = sessionCookies(request.sent, manager);
    assert.deepEqual(
      cleared.map((c) => [c.name, c.value, c.maxAge]),
      [['__Host-sid', '', 0]],
    );
    request.renderAfterAction();
    assert.equal((await sessions.read()).isNew, true);
    assert.equal(browserAfter(header, request.sent)?.includes('__Host-sid'), undefined);
  });

  it('saves nothing when the change throws, and rejects with ERR_SESSION_STORE when the write fails', async () => {
    const header = await signedIn();
    const failing = fakeRequest(header, 'action');
    await assert.rejects(
      createNextSessions(manager, failing.apis).change((session) => {
        session.set('count', 9);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(spy.calls.patch, 0);
    spy.failing.add('set');
    const fresh = fakeRequest(undefined, 'action');
    await assert.rejects(
      createNextSessions(manager, fresh.apis).change((session) => session.set('count', 1)),
      (error) => isSessionError(error) && error.code === 'ERR_SESSION_STORE',
    );
    assert.deepEqual(sessionCookies(fresh.sent, manager), []);
  });

  it('reads a Request in proxy.ts without saving anything', async () => {
    const header = await signedIn();
    const session = await readSession(
      manager,
      new Request('https://shop.test/', { headers: { cookie: header } }),
    );
    assert.equal(session.get('count'), 1);
    assert.deepEqual(spy.calls.get, 1);
    assert.equal(spy.total(), 1);
  });
});

describe('createNextSessions (sessionkit/next) with cookie-only sessions', () => {
  const manager = createCookieSessionManager<ConformanceData>({
    secrets: ['sessionkit-next-test-secret-0123456789abcdef'],
  });

  it('seals the change into the cookie through cookies().set and opens it in a later render', async () => {
    const request = fakeRequest(undefined, 'action');
    await createNextSessions(manager, request.apis).change((session) => session.set('note', 'sealed'));
    const header = browserAfter(undefined, request.sent);
    const page = await createNextSessions(manager, fakeRequest(header, 'render').apis).read();
    assert.equal(page.get('note'), 'sealed');
    const proxied = await readSession(
      manager,
      new Request('https://shop.test/', { headers: { cookie: header ?? '' } }),
    );
    assert.equal(proxied.get('note'), 'sealed');
  });

  it('shows the action change to the page rendered after it', async () => {
    const request = fakeRequest(undefined, 'action');
    const sessions = createNextSessions(manager, request.apis);
    await sessions.change((session) => session.set('count', 7));
    request.renderAfterAction();
    assert.equal((await sessions.read()).get('count'), 7);
  });
});

function send(result: RouteResult): Response {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const [name, value] of Object.entries(result.headers ?? {})) headers.append(name, value);
  return new Response(JSON.stringify(result.body ?? null), { status: result.status ?? 200, headers });
}

// Route Handlers get `(request, context)`; `route()` adds the session between them.
describeAdapterConformance('next (Route Handler)', async (manager, routes) => {
  const apis = fakeRequest(undefined, 'action').apis;
  const handler = createNextSessions(manager, apis).route<{ params: Promise<{ path: string }> }>(
    async (request, session, context) => {
      const { path } = await context.params;
      const route = routes.session[path];
      assert.equal(path, new URL(request.url).pathname);
      return route === undefined ? new Response(null, { status: 404 }) : send(await route(session));
    },
  );
  const server = createAdaptorServer({
    fetch: async (request: Request) => {
      const path = new URL(request.url).pathname;
      if (path === routes.plain.path) return send(routes.plain.handler());
      try {
        return await handler(request, { params: Promise.resolve({ path }) });
      } catch {
        return new Response('Internal Server Error', { status: 500 });
      }
    },
  });
  if (!('closeAllConnections' in server)) throw new Error('expected an http.Server');
  return listenHarness(server);
});

describe('route() (sessionkit/next)', () => {
  const manager = createSessionManager<ConformanceData>({ store: createMemoryStore() });
  const sessions = createNextSessions(manager, fakeRequest(undefined, 'action').apis);
  after(() => manager.close());

  it('marks a response without Cache-Control no-store, also a redirect, and keeps one the handler set', async () => {
    const read = sessions.route((_request, session) => Response.json({ count: session.get('count') ?? 0 }));
    const plain = await read(new Request('https://shop.test/api'), {});
    assert.deepEqual([plain.headers.get('cache-control'), plain.headers.getSetCookie()], ['no-store', []]);
    const redirect = await sessions.route(() => Response.redirect('https://shop.test/', 303))(
      new Request('https://shop.test/api'),
      {},
    );
    assert.equal(redirect.headers.get('cache-control'), 'no-store');
    const own = sessions.route(
      () => new Response('ok', { headers: { 'cache-control': 'private, max-age=5' } }),
    );
    assert.equal(
      (await own(new Request('https://shop.test/api'), {})).headers.get('cache-control'),
      'private, max-age=5',
    );
  });
});
