import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createSessionManager, type StoreSessionManager } from '../core/manager.js';
import type { Session } from '../core/types.js';
import { isSessionError, SessionStateError } from '../errors.js';
import { createMemoryStore } from '../stores/memory.js';
import {
  type ConformanceData,
  describeAdapterConformance,
  type RouteResult,
} from '../testing/adapter-conformance.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { type InstrumentedStore, instrumentStore } from '../testing/instrumented-store.js';
import { sessionPlugin } from './fastify.js';

/**
 * The session as the conformance routes type it. `request.session` is typed program-wide by
 * FastifySessionTypes, which this repository leaves open (the benchmarks use other data), so tests
 * read it through Fastify's typed accessor for the same decoration.
 */
function sessionOf(request: FastifyRequest): Session<ConformanceData> {
  return request.getDecorator<Session<ConformanceData>>('session');
}

function send(reply: FastifyReply, result: RouteResult): string {
  reply.code(result.status ?? 200);
  for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value);
  reply.type('application/json');
  return JSON.stringify(result.body ?? null);
}

async function listen(app: FastifyInstance): Promise<{ url: string; close(): Promise<void> }> {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

describeAdapterConformance('fastify', async (manager, routes) => {
  const app = Fastify();
  await app.register(sessionPlugin, { manager });
  app.get(routes.plain.path, { config: { session: false } }, async (_request, reply) =>
    send(reply, routes.plain.handler()),
  );
  for (const [path, handler] of Object.entries(routes.session)) {
    app.get(path, async (request, reply) => send(reply, await handler(sessionOf(request))));
  }
  return listen(app);
});

interface Fixture {
  manager: StoreSessionManager<ConformanceData>;
  spy: InstrumentedStore;
  /** GET announcing HTTPS (the manager trusts the proxy), with the session cookie when given. */
  get(url: string, token?: string): Promise<Response>;
  /** The session token a response sets. */
  tokenOf(response: Response): string;
}

/** Sends `GET path` over a raw socket with `headers` as given (repeated names stay separate lines). */
function rawGet(url: string, path: string, headers: string[]): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.end(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n${headers.join('\r\n')}\r\n\r\n`,
      );
    });
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      response += chunk;
    });
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
  });
}

function fixture(): Fixture {
  const clock = createFakeClock();
  const spy = instrumentStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
  const manager = createSessionManager<ConformanceData>({ store: spy, clock, trustProxy: true });
  return {
    manager,
    spy,
    get(url, token) {
      const headers: Record<string, string> = { 'x-forwarded-proto': 'https' };
      if (token !== undefined) headers.cookie = `${manager.cookieName}=${token}`;
      return fetch(url, { headers });
    },
    tokenOf(response) {
      const prefix = `${manager.cookieName}=`;
      const cookies = response.headers.getSetCookie().filter((c) => c.startsWith(prefix));
      assert.equal(cookies.length, 1, response.headers.getSetCookie().join(' | '));
      return (cookies[0] ?? '').slice(prefix.length).split(';', 1)[0] ?? '';
    },
  };
}

describe('sessionPlugin (sessionkit/fastify)', () => {
  let f: Fixture;
  let app: FastifyInstance;
  let url: string;
  const seenErrors: string[] = [];

  before(async () => {
    f = fixture();
    app = Fastify();
    app.setErrorHandler((error, _request, reply) => {
      seenErrors.push(isSessionError(error) ? error.code : 'other');
      reply.code(isSessionError(error) ? error.status : 500).send({ failed: true });
    });
    await app.register(sessionPlugin, { manager: f.manager });
    app.get('/count', async (request) => {
      const session = sessionOf(request);
      session.set('count', (session.get('count') ?? 0) + 1);
      return { count: session.get('count') };
    });
    app.get('/opted-out', { config: { session: false } }, async (request) => {
      try {
        return { session: request.session.id };
      } catch (error) {
        return { error: error instanceof SessionStateError ? error.code : 'other' };
      }
    });
    app.get('/cached', async (request, reply) => {
      sessionOf(request).set('note', 'cached?');
      reply.header('cache-control', 'public, max-age=600');
      return { ok: true };
    });
    app.get('/server-error', async (request, reply) => {
      sessionOf(request).set('note', 'unsaved');
      return reply.code(502).send({ upstream: 'down' });
    });
    app.register(async (child) => {
      child.get('/child', async (request) => ({ count: request.session.get('count') ?? null }));
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await app.close();
    await f.manager.close();
  });

  it('does no store I/O on a config.session: false route, where request.session throws', async () => {
    const token = f.tokenOf(await f.get(`${url}/count`));
    f.spy.reset();
    const reply = await f.get(`${url}/opted-out`, token);
    assert.deepEqual(await reply.json(), { error: 'ERR_SESSION_STATE' });
    assert.deepEqual(reply.headers.getSetCookie(), []);
    assert.equal(f.spy.total(), 0);
  });

  it('reads the session cookie from every Cookie header of the request', async () => {
    const token = f.tokenOf(await f.get(`${url}/count`));
    const response = await rawGet(url, '/count', [
      'X-Forwarded-Proto: https',
      'Cookie: theme=dark',
      `Cookie: ${f.manager.cookieName}=${token}`,
    ]);
    assert.match(response, /^HTTP\/1\.1 200 /);
    assert.match(response, /\{"count":2\}$/);
  });

  it('covers routes of child contexts registered after it', async () => {
    const token = f.tokenOf(await f.get(`${url}/count`));
    const reply = await f.get(`${url}/child`, token);
    assert.deepEqual(await reply.json(), { count: 1 });
  });

  it('replaces an app Cache-Control with no-store when it sets the cookie', async () => {
    const reply = await f.get(`${url}/cached`);
    f.tokenOf(reply);
    assert.equal(reply.headers.get('cache-control'), 'no-store');
  });

  it('saves nothing for a 5xx reply the handler sends itself', async () => {
    const token = f.tokenOf(await f.get(`${url}/count`));
    f.spy.reset();
    const reply = await f.get(`${url}/server-error`, token);
    assert.equal(reply.status, 502);
    assert.deepEqual(reply.headers.getSetCookie(), []);
    assert.equal(f.spy.calls.patch + f.spy.calls.set, 0);
  });

  it('passes a store failure to the app error handler as ERR_SESSION_STORE, once per request', async () => {
    const token = f.tokenOf(await f.get(`${url}/count`));
    seenErrors.length = 0;
    f.spy.failing.add('get');
    try {
      assert.equal((await f.get(`${url}/count`, token)).status, 503);
    } finally {
      f.spy.failing.clear();
    }
    f.spy.failing.add('patch');
    try {
      const reply = await f.get(`${url}/count`, token);
      assert.equal(reply.status, 503);
      assert.deepEqual(reply.headers.getSetCookie(), []);
    } finally {
      f.spy.failing.clear();
    }
    assert.deepEqual(seenErrors, ['ERR_SESSION_STORE', 'ERR_SESSION_STORE']);
  });

  it('does no store I/O for routes outside the context it is registered in', async () => {
    const token = f.tokenOf(await f.get(`${url}/count`));
    const outer = Fastify();
    outer.get('/outside', async () => ({ outside: true }));
    outer.register(async (scoped) => {
      await scoped.register(sessionPlugin, { manager: f.manager });
      scoped.get('/inside', async (request) => ({ count: request.session.get('count') ?? null }));
    });
    const base = await outer.listen({ port: 0, host: '127.0.0.1' });
    try {
      f.spy.reset();
      assert.deepEqual(await (await f.get(`${base}/outside`, token)).json(), { outside: true });
      assert.equal(f.spy.total(), 0);
      assert.deepEqual(await (await f.get(`${base}/inside`, token)).json(), { count: 1 });
      assert.equal(f.spy.calls.get, 1);
    } finally {
      await outer.close();
    }
  });

  it('rejects registration without a manager with ERR_SESSION_CONFIG', async () => {
    const bad = Fastify();
    const options = { manager: undefined };
    // @ts-expect-error the options lack a manager on purpose.
    bad.register(sessionPlugin, options);
    await assert.rejects(
      async () => {
        await bad.ready();
      },
      { code: 'ERR_SESSION_CONFIG' },
    );
    await bad.close();
  });
});

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** An app's source that augments FastifySessionTypes (when `augment`) and uses `request.session`. */
function typedApp(augment: boolean): string {
  const src = (path: string) => JSON.stringify(join(ROOT, 'src', path));
  return `import Fastify from 'fastify';
import { createSessionManager } from ${src('core/manager.js')};
import { createMemoryStore } from ${src('stores/memory.js')};
import { sessionPlugin } from ${src('adapters/fastify.js')};
type Cart = { cart: string[]; visits: number };
${augment ? `declare module ${src('adapters/fastify.js')} { interface FastifySessionTypes { data: Cart } }` : ''}
const app = Fastify();
app.register(sessionPlugin, { manager: createSessionManager<Cart>({ store: createMemoryStore() }) });
// @ts-expect-error once the data type is declared, a manager for other data does not fit.
app.register(sessionPlugin, { manager: createSessionManager<{ other: 1 }>({ store: createMemoryStore() }) });
app.get('/', async (request) => {
  const visits: number | undefined = request.session.get('visits');
  const cart: string[] | undefined = request.session.get('cart');
  // @ts-expect-error visits holds a number.
  request.session.set('visits', 'two');
  // @ts-expect-error note is not a key of Cart.
  request.session.get('note');
  return { visits, cart };
});
`;
}

/** Type-checks `source` as its own program (an augmentation is program-wide); resolves to tsc's output. */
async function typeCheck(source: string): Promise<{ ok: boolean; output: string }> {
  // Inside node_modules so that the app resolves fastify like any app of this repository.
  const cache = join(ROOT, 'node_modules', '.cache');
  await mkdir(cache, { recursive: true });
  const dir = await mkdtemp(join(cache, 'sessionkit-fastify-types-'));
  try {
    await writeFile(join(dir, 'app.ts'), source);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.json'),
        compilerOptions: { noEmit: true },
        // Only the app: the base config's `include` would bring in the whole repository.
        files: ['app.ts'],
        include: [],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [tsc, '-p', dir], { timeout: 60_000 });
      return { ok: true, output: stdout };
    } catch (error) {
      const output = error instanceof Error && 'stdout' in error ? String(error.stdout) : String(error);
      return { ok: false, output };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('FastifySessionTypes (sessionkit/fastify types, compiled by tsc)', () => {
  it('types request.session and the plugin options by the data type an app declares', async () => {
    const [augmented, open] = await Promise.all([typeCheck(typedApp(true)), typeCheck(typedApp(false))]);
    assert.equal(augmented.ok, true, augmented.output);
    // The same lines without the declaration fail: the checks above are not vacuous.
    assert.equal(open.ok, false);
    assert.equal(open.output.match(/TS2578: Unused '@ts-expect-error' directive/g)?.length, 3, open.output);
    assert.match(open.output, /Type 'unknown' is not assignable to type 'number \| undefined'/);
    assert.match(open.output, /Type 'unknown' is not assignable to type 'string\[\] \| undefined'/);
  });
});
