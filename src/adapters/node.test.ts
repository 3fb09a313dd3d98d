import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSessionManager, type StoreSessionManager } from '../core/manager.js';
import type { Session } from '../core/types.js';
import { isSessionError } from '../errors.js';
import { createMemoryStore } from '../stores/memory.js';
import {
  type AdapterHarness,
  type ConformanceData,
  type ConformanceRoutes,
  describeAdapterConformance,
  listenHarness,
  type RouteResult,
} from '../testing/adapter-conformance.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { type InstrumentedStore, instrumentStore } from '../testing/instrumented-store.js';
import { type SessionHandler, type WithSessionOptions, withSession } from './node.js';

function send(res: ServerResponse, result: RouteResult): void {
  res.statusCode = result.status ?? 200;
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(result.body ?? null));
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://localhost').pathname;
}

async function route(
  routes: ConformanceRoutes,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<ConformanceData>,
): Promise<void> {
  const path = pathOf(req);
  if (path === routes.streaming.path) {
    res.statusCode = 200;
    res.setHeader('content-type', 'text/plain');
    const write = (chunk: string) =>
      new Promise<void>((resolve, reject) =>
        res.write(chunk, (error) => (error ? reject(error) : resolve())),
      );
    res.end(await routes.streaming.handler(session, write));
    return;
  }
  const handler = routes.session[path];
  if (handler === undefined) send(res, { status: 404 });
  else send(res, await handler(session));
}

describeAdapterConformance(
  'node:http',
  async (manager, routes) => {
    const sessioned = withSession(manager, (req, res, session) => route(routes, req, res, session));
    return listenHarness(
      createServer((req, res) => {
        if (pathOf(req) === routes.plain.path) send(res, routes.plain.handler());
        else sessioned(req, res);
      }),
    );
  },
  { streaming: true },
);

type Data = { n: number; note: string };

interface Fixture {
  manager: StoreSessionManager<Data>;
  clock: ReturnType<typeof createFakeClock>;
  spy: InstrumentedStore;
  start(handler: SessionHandler<Data>, options?: WithSessionOptions): Promise<AdapterHarness>;
  /** GET over plain HTTP announcing HTTPS (the manager trusts the proxy). */
  get(harness: AdapterHarness, token?: string): Promise<Response>;
  /** A stored session with n = 1; returns its token. */
  stored(): Promise<string>;
  close(): Promise<void>;
}

function fixture(): Fixture {
  const clock = createFakeClock();
  const spy = instrumentStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
  const manager = createSessionManager<Data>({ store: spy, clock, trustProxy: true });
  const harnesses: AdapterHarness[] = [];
  const self: Fixture = {
    manager,
    clock,
    spy,
    async start(handler, options) {
      const harness = await listenHarness(createServer(withSession(manager, handler, options)));
      harnesses.push(harness);
      return harness;
    },
    get(harness, token) {
      const headers: Record<string, string> = { 'x-forwarded-proto': 'https' };
      if (token !== undefined) headers.cookie = `${manager.cookieName}=${token}`;
      return fetch(harness.url, { headers });
    },
    async stored() {
      const harness = await self.start((_req, res, session) => {
        session.set('n', 1);
        res.end();
      });
      const reply = await self.get(harness);
      return tokenIn(reply.headers.getSetCookie(), manager.cookieName);
    },
    async close() {
      await Promise.all(harnesses.map((h) => h.close()));
      await manager.close();
    },
  };
  return self;
}

function tokenIn(cookies: string[], name: string): string {
  const mine = cookies.filter((c) => c.startsWith(`${name}=`));
  assert.equal(mine.length, 1, cookies.join(' | '));
  return (mine[0] ?? '').slice(name.length + 1).split(';', 1)[0] ?? '';
}

describe('withSession (sessionkit/node)', () => {
  let f: Fixture;
  before(() => {
    f = fixture();
  });
  after(() => f.close());

  it('appends its cookie after an array of app cookies', async () => {
    const harness = await f.start((_req, res, session) => {
      session.set('n', 1);
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('ok');
    });
    const cookies = (await f.get(harness)).headers.getSetCookie();
    assert.deepEqual(cookies.slice(0, 2), ['a=1', 'b=2']);
    assert.equal(cookies.length, 3);
    tokenIn(cookies, f.manager.cookieName);
  });

  it('keeps the cookies and replaces the caching headers passed to writeHead', async () => {
    const harness = await f.start((_req, res, session) => {
      session.set('n', 1);
      res.setHeader('set-cookie', 'early=0');
      res.writeHead(200, 'Fine', { 'Set-Cookie': ['a=1', 'b=2'], 'Cache-Control': 'public, max-age=60' });
      res.end('ok');
    });
    const reply = await f.get(harness);
    assert.equal(reply.statusText, 'Fine');
    assert.equal(reply.headers.get('cache-control'), 'no-store');
    const cookies = reply.headers.getSetCookie();
    assert.deepEqual(cookies.slice(0, 2), ['a=1', 'b=2']);
    tokenIn(cookies, f.manager.cookieName);
  });

  it('saves data set after writeHead and before end, and still rotates the token', async () => {
    const harness = await f.start((_req, res, session) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      session.set('note', 'after writeHead');
      res.end(String(session.get('n') ?? 0));
    });
    const created = tokenIn((await f.get(harness)).headers.getSetCookie(), f.manager.cookieName);
    assert.equal((await f.manager.load(`${f.manager.cookieName}=${created}`)).get('note'), 'after writeHead');
    f.clock.advanceSeconds(901);
    const rotated = tokenIn((await f.get(harness, created)).headers.getSetCookie(), f.manager.cookieName);
    assert.notEqual(rotated, created);
  });

  it('keeps repeated names in the flat array form of writeHead', async () => {
    const harness = await f.start((_req, res, session) => {
      session.set('n', 1);
      res.writeHead(201, ['Set-Cookie', 'a=1', 'X-App', 'yes', 'Set-Cookie', 'b=2']);
      res.end();
    });
    const reply = await f.get(harness);
    assert.equal(reply.status, 201);
    assert.equal(reply.headers.get('x-app'), 'yes');
    const cookies = reply.headers.getSetCookie();
    assert.deepEqual(cookies.slice(0, 2), ['a=1', 'b=2']);
    tokenIn(cookies, f.manager.cookieName);
  });

  it('adds the cookie when flushHeaders() sends the headers early', async () => {
    const harness = await f.start(async (_req, res, session) => {
      session.set('n', 1);
      res.flushHeaders();
      await new Promise((resolve) => setImmediate(resolve));
      session.set('note', 'after flush');
      res.end('done');
    });
    const reply = await f.get(harness);
    const token = tokenIn(reply.headers.getSetCookie(), f.manager.cookieName);
    const read = await f.manager.load(`${f.manager.cookieName}=${token}`);
    assert.equal(read.get('note'), 'after flush');
  });

  it('saves changes the handler makes after calling res.end() before it returns', async () => {
    const harness = await f.start(async (_req, res, session) => {
      res.end('early');
      await new Promise((resolve) => setImmediate(resolve));
      session.set('note', 'late');
    });
    const token = tokenIn((await f.get(harness)).headers.getSetCookie(), f.manager.cookieName);
    assert.equal((await f.manager.load(`${f.manager.cookieName}=${token}`)).get('note'), 'late');
  });

  it('commits when the response ends after the handler has returned', async () => {
    const harness = await f.start((_req, res, session) => {
      session.set('note', 'later');
      setImmediate(() => res.end('ended later'));
    });
    const reply = await f.get(harness);
    assert.equal(await reply.text(), 'ended later');
    const token = tokenIn(reply.headers.getSetCookie(), f.manager.cookieName);
    assert.equal((await f.manager.load(`${f.manager.cookieName}=${token}`)).get('note'), 'later');
  });

  it('answers a throwing handler with a bare 500: no stack, no app headers, nothing saved', async () => {
    const harness = await f.start((_req, res, session) => {
      session.set('n', 1);
      res.setHeader('set-cookie', 'app=1');
      res.setHeader('location', '/elsewhere');
      throw new Error('secret detail at handler.ts:12');
    });
    const reply = await f.get(harness);
    assert.equal(reply.status, 500);
    assert.equal(await reply.text(), 'Internal Server Error');
    assert.deepEqual(reply.headers.getSetCookie(), []);
    assert.equal(reply.headers.get('location'), null);
  });

  it('discards the response of a handler that throws after res.end()', async () => {
    const harness = await f.start(async (_req, res, session) => {
      session.set('n', 1);
      res.end('looks fine');
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('late failure');
    });
    const reply = await f.get(harness);
    assert.equal(reply.status, 500);
    assert.deepEqual(reply.headers.getSetCookie(), []);
  });

  it('commits nothing for a 5xx response the handler sends itself', async () => {
    const token = await f.stored();
    f.spy.reset();
    const harness = await f.start((_req, res, session) => {
      session.set('note', 'unsaved');
      res.statusCode = 502;
      res.end();
    });
    assert.equal((await f.get(harness, token)).status, 502);
    assert.equal(f.spy.calls.patch + f.spy.calls.set, 0);
  });

  it('passes store failures to onError with ERR_SESSION_STORE and cleared headers', async () => {
    const token = await f.stored();
    const seen: string[] = [];
    const harness = await f.start(
      (_req, res, session) => {
        session.set('note', 'x');
        res.setHeader('set-cookie', 'app=1');
        res.end('ok');
      },
      {
        onError(error, _req, res) {
          seen.push(isSessionError(error) ? `${error.code} ${error.status}` : 'other');
          res.statusCode = 599;
          res.end(`custom ${res.getHeaderNames().length}`);
        },
      },
    );
    f.spy.failing.add('patch');
    try {
      const reply = await f.get(harness, token);
      assert.equal(reply.status, 599);
      assert.equal(await reply.text(), 'custom 0');
      assert.deepEqual(reply.headers.getSetCookie(), []);
    } finally {
      f.spy.failing.clear();
    }
    f.spy.failing.add('get');
    try {
      assert.equal((await f.get(harness, token)).status, 599);
    } finally {
      f.spy.failing.clear();
    }
    assert.deepEqual(seen, ['ERR_SESSION_STORE 503', 'ERR_SESSION_STORE 503']);
  });

  it('destroys the socket when the commit fails after the headers went out', async () => {
    const token = await f.stored();
    const harness = await f.start(async (_req, res, session) => {
      await new Promise((resolve) => res.write('partial', resolve));
      session.set('note', 'x');
      res.end();
    });
    f.spy.failing.add('patch');
    try {
      // The client gets no complete response: either no response at all or a truncated body.
      await assert.rejects(f.get(harness, token).then((reply) => reply.text()));
    } finally {
      f.spy.failing.clear();
    }
  });
});

describe('withSession nested in withSession (sessionkit/node)', () => {
  const managers = ['user', 'admin'].map((name) =>
    createSessionManager<Data>({ store: createMemoryStore(), insecureDevCookies: true, cookie: { name } }),
  );
  const [users, admins] = managers;
  let harness: AdapterHarness;
  let flush: 'write' | 'writeHead' | 'none' = 'none';

  before(async () => {
    if (users === undefined || admins === undefined) throw new Error('two managers');
    const inner = withSession(admins, async (_req, res, admin) => {
      admin.set('n', 2);
      if (flush === 'write') await new Promise((resolve) => res.write('a', resolve));
      if (flush === 'writeHead') res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('b');
    });
    harness = await listenHarness(
      createServer(
        withSession(users, (req, res, user) => {
          user.set('n', 1);
          inner(req, res);
        }),
      ),
    );
  });

  after(async () => {
    await harness.close();
    await Promise.all(managers.map((m) => m.close()));
  });

  async function check(mode: typeof flush): Promise<void> {
    flush = mode;
    const reply = await fetch(harness.url);
    assert.equal(await reply.text(), mode === 'write' ? 'ab' : 'b');
    const header = reply.headers
      .getSetCookie()
      .map((c) => c.split(';', 1)[0])
      .join('; ');
    assert.equal((await users?.load(header))?.get('n'), 1, header);
    assert.equal((await admins?.load(header))?.get('n'), 2, header);
  }

  it('commits both sessions and sends both cookies', () => check('none'));
  it('sends both cookies after an explicit writeHead', () => check('writeHead'));
  it('sends both cookies with headers flushed early by a write', () => check('write'));
});

describe('withSession over TLS (sessionkit/node)', () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sessionkit-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1'].concat([
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]),
      { stdio: 'ignore' },
    );
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('issues the Secure cookie on an HTTPS socket without X-Forwarded-Proto or trustProxy', async () => {
    const clock = createFakeClock();
    const manager = createSessionManager<Data>({
      store: createMemoryStore({ clock, sweepIntervalSeconds: 0 }),
      clock,
    });
    const server = createHttpsServer(
      { key, cert },
      withSession(manager, (_req, res, session) => {
        session.set('n', 1);
        res.end('ok');
      }),
    );
    const harness = await listenHarness(server);
    try {
      const { port } = new URL(harness.url);
      const cookies = await new Promise<string[]>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, ca: cert, rejectUnauthorized: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers['set-cookie'] ?? []));
        });
        req.on('error', reject);
        req.end();
      });
      assert.match(tokenIn(cookies, manager.cookieName), /^[A-Za-z0-9_-]{43}$/);
      assert.match(cookies[0] ?? '', /; Secure;/);
    } finally {
      await harness.close();
      await manager.close();
    }
  });
});
