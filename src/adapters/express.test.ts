import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { tokenKey } from '../core/crypto.js';
import { createSessionManager, type StoreSessionManager } from '../core/manager.js';
import { isSessionError } from '../errors.js';
import { createMemoryStore } from '../stores/memory.js';
import {
  type AdapterHarness,
  describeAdapterConformance,
  listenHarness,
  type MountAdapter,
  type RouteResult,
} from '../testing/adapter-conformance.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { type InstrumentedStore, instrumentStore } from '../testing/instrumented-store.js';
import { sessionMiddleware } from './express.js';

// `express4` is express@4 installed under an npm alias; it has no type declarations of its own and
// the API used here is the same in Express 4 and 5.
const express4: typeof express = createRequire(import.meta.url)('express4');

function send(res: Response, result: RouteResult): void {
  res.status(result.status ?? 200);
  for (const [name, value] of Object.entries(result.headers ?? {})) res.append(name, value);
  res.json(result.body ?? null);
}

/**
 * Mounts the conformance routes. Express 5 forwards a rejected handler to the error path itself;
 * Express 4 needs the rejection passed to `next`.
 */
function mountOn(createApp: () => Express, forwardsRejections: boolean): MountAdapter {
  return async (manager, routes) => {
    const app = createApp();
    // Keeps Express's default error handler from printing each expected failure's stack.
    app.set('env', 'test');
    app.get(routes.plain.path, (_req, res) => send(res, routes.plain.handler()));
    const sessions = sessionMiddleware(manager);
    app.use(sessions);
    const handle =
      (run: (req: Request, res: Response) => Promise<void>) =>
      (req: Request, res: Response, next: (error: unknown) => void) => {
        const done = run(req, res);
        if (!forwardsRejections) done.catch(next);
        return done;
      };
    for (const [path, handler] of Object.entries(routes.session)) {
      app.get(
        path,
        handle(async (req, res) => send(res, await handler(sessions.of(req)))),
      );
    }
    app.get(
      routes.streaming.path,
      handle(async (req, res) => {
        res.status(200).type('text/plain');
        const write = (chunk: string) =>
          new Promise<void>((resolve, reject) => res.write(chunk, (e) => (e ? reject(e) : resolve())));
        res.end(await routes.streaming.handler(sessions.of(req), write));
      }),
    );
    return listenHarness(createServer(app));
  };
}

describeAdapterConformance('Express 5', mountOn(express, true), { streaming: true });
describeAdapterConformance('Express 4', mountOn(express4, false), { streaming: true });

type Data = { n: number; note: string };

describe('sessionMiddleware (sessionkit/express)', () => {
  let manager: StoreSessionManager<Data>;
  let spy: InstrumentedStore;
  let harness: AdapterHarness;
  const errors: string[] = [];

  before(async () => {
    const clock = createFakeClock();
    spy = instrumentStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
    manager = createSessionManager<Data>({ store: spy, clock, trustProxy: true });
    const sessions = sessionMiddleware(manager);
    const app = express();
    app.get('/before', (req, res) => {
      try {
        sessions.of(req);
        res.json({ threw: false });
      } catch (error) {
        res.json({ threw: isSessionError(error) ? error.code : 'other' });
      }
    });
    app.use(sessions);
    app.get('/same', (req, res) => {
      // Read untyped: this program also compiles express-session, whose global type says otherwise.
      const exposed: unknown = Object.getOwnPropertyDescriptor(req, 'session')?.value;
      res.json({ same: exposed === sessions.of(req) });
    });
    app.get('/login', (req, res) => {
      sessions.of(req).set('n', 1);
      res.cookie('theme', 'dark');
      res.redirect(303, '/home');
    });
    app.get('/note', (req, res) => {
      sessions.of(req).set('note', 'x');
      res.json({ ok: true });
    });
    const onError: ErrorRequestHandler = (error, _req, res, _next) => {
      errors.push(isSessionError(error) ? `${error.code} ${error.status}` : 'other');
      res.status(isSessionError(error) ? error.status : 500).json({ error: 'unavailable' });
    };
    app.use(onError);
    harness = await listenHarness(createServer(app));
  });

  after(async () => {
    await harness.close();
    await manager.close();
  });

  function get(path: string, token?: string): Promise<globalThis.Response> {
    const headers: Record<string, string> = { 'x-forwarded-proto': 'https' };
    if (token !== undefined) headers.cookie = `${manager.cookieName}=${token}`;
    return fetch(harness.url + path, { headers, redirect: 'manual' });
  }

  function tokenIn(reply: globalThis.Response): string {
    const mine = reply.headers.getSetCookie().filter((c) => c.startsWith(`${manager.cookieName}=`));
    assert.equal(mine.length, 1);
    return (mine[0] ?? '').slice(manager.cookieName.length + 1).split(';', 1)[0] ?? '';
  }

  it('exposes the session as req.session', async () => {
    assert.deepEqual(await (await get('/same')).json(), { same: true });
  });

  it('throws ERR_SESSION_STATE from of(req) on a route the middleware did not run for', async () => {
    assert.deepEqual(await (await get('/before')).json(), { threw: 'ERR_SESSION_STATE' });
  });

  it('saves the session before a redirect reaches the client, beside res.cookie()', async () => {
    spy.delayMs = 200;
    try {
      const reply = await get('/login');
      assert.equal(reply.status, 303);
      assert.equal(reply.headers.get('location'), '/home');
      const cookies = reply.headers.getSetCookie();
      assert.ok(
        cookies.some((c) => c.startsWith('theme=dark;')),
        cookies.join(' | '),
      );
      const stored = await spy.get(tokenKey(tokenIn(reply)));
      assert.equal(stored?.data.n, 1);
    } finally {
      spy.delayMs = 0;
    }
  });

  it('passes load and commit failures to the app error handler with status 503', async () => {
    const token = tokenIn(await get('/login'));
    errors.length = 0;
    spy.failing.add('get');
    try {
      const reply = await get('/note', token);
      assert.equal(reply.status, 503);
      assert.deepEqual(await reply.json(), { error: 'unavailable' });
    } finally {
      spy.failing.clear();
    }
    spy.failing.add('patch');
    try {
      const reply = await get('/note', token);
      assert.equal(reply.status, 503);
      assert.deepEqual(reply.headers.getSetCookie(), []);
    } finally {
      spy.failing.clear();
    }
    assert.deepEqual(errors, ['ERR_SESSION_STORE 503', 'ERR_SESSION_STORE 503']);
  });
});

describe('two sessionMiddleware instances on one request', () => {
  type Pair = { n: number };
  let users: StoreSessionManager<Pair>;
  let admins: StoreSessionManager<Pair>;
  let harness: AdapterHarness;

  before(async () => {
    const options = { insecureDevCookies: true } as const;
    users = createSessionManager<Pair>({ ...options, store: createMemoryStore(), cookie: { name: 'user' } });
    admins = createSessionManager<Pair>({
      ...options,
      store: createMemoryStore(),
      cookie: { name: 'admin' },
    });
    const userSessions = sessionMiddleware(users);
    const adminSessions = sessionMiddleware(admins);
    // Like compression: ends the response later, through the `end` it found.
    const deferEnd: RequestHandler = (_req, res, next) => {
      const end: unknown = res.end;
      if (typeof end !== 'function') throw new TypeError('no res.end');
      Reflect.set(res, 'end', (...args: unknown[]) => {
        setImmediate(() => Reflect.apply(end, res, args));
        return res;
      });
      next();
    };
    const app = express();
    app.use(userSessions, deferEnd, adminSessions);
    app.get('/both', (req, res) => {
      userSessions.of(req).set('n', 1);
      adminSessions.of(req).set('n', 2);
      res.json({ apart: userSessions.of(req) !== adminSessions.of(req) });
    });
    app.get('/stream', (req, res) => {
      userSessions.of(req).set('n', 3);
      adminSessions.of(req).set('n', 4);
      res.type('text/plain');
      res.write('a');
      res.end('b');
    });
    harness = await listenHarness(createServer(app));
  });

  after(async () => {
    await harness.close();
    await Promise.all([users.close(), admins.close()]);
  });

  async function stored(reply: globalThis.Response): Promise<[unknown, unknown]> {
    const cookies = reply.headers.getSetCookie().map((c) => c.split(';', 1)[0] ?? '');
    assert.equal(cookies.length, 2, cookies.join(' | '));
    const header = cookies.join('; ');
    return [(await users.load(header)).get('n'), (await admins.load(header)).get('n')];
  }

  it('commits each session and sends both cookies', async () => {
    const reply = await fetch(`${harness.url}/both`);
    assert.equal(reply.status, 200);
    assert.deepEqual(await reply.json(), { apart: true });
    assert.deepEqual(await stored(reply), [1, 2]);
  });

  it('sends both cookies with headers flushed early by a write', async () => {
    const reply = await fetch(`${harness.url}/stream`);
    assert.equal(await reply.text(), 'ab');
    assert.deepEqual(await stored(reply), [3, 4]);
  });
});
