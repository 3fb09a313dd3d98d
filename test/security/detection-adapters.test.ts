/**
 * SEC-41 on the Fetch API adapters: the invalid-token alarm needs the client address, which these
 * runtimes hand the handler beside the request (Node.js through @hono/node-server, Bun, Deno), and
 * counts IPv6 clients per /64.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { withSession } from '../../src/adapters/fetch.js';
import { type SessionEnv, sessionMiddleware } from '../../src/adapters/hono.js';
import { randomToken } from '../../src/core/crypto.js';
import { createSessionManager, type SessionEvent } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { recordEvents, SESSION_COOKIE } from './harness.js';

type FetchHandler = (request: Request, ...context: unknown[]) => Promise<Response>;

function manager() {
  return createSessionManager({ store: createMemoryStore() });
}

/** A fetch handler through `withSession`. */
function fetchApp(): FetchHandler {
  return withSession(manager(), (_request, session) => Response.json({ isNew: session.isNew }));
}

/** A Hono app's fetch through `sessionMiddleware`. */
function honoApp(): FetchHandler {
  const app = new Hono<SessionEnv>();
  app.use(sessionMiddleware(manager()));
  app.get('/', (c) => c.json({ isNew: c.get('session').isNew }));
  return async (request, ...context) => app.fetch(request, context[0]);
}

/** A request carrying an unknown session token. */
function invalid(url = 'https://app.test/'): Request {
  return new Request(url, { headers: { cookie: `${SESSION_COOKIE}=${randomToken()}` } });
}

const alarms = (events: SessionEvent[]) => events.filter((e) => e.type === 'bruteforce');

/** Serves `handler` with @hono/node-server on 127.0.0.1 and sends it `count` unknown tokens. */
async function overHttp(handler: FetchHandler, count: number): Promise<void> {
  const server = createAdaptorServer({ fetch: handler, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  const { port } = address satisfies AddressInfo;
  try {
    for (let i = 0; i < count; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        headers: { cookie: `${SESSION_COOKIE}=${randomToken()}` },
      });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const adapters: Array<[string, () => FetchHandler]> = [
  ['fetch (withSession)', fetchApp],
  ['Hono (sessionMiddleware)', honoApp],
];

for (const [name, create] of adapters) {
  describe(`invalid-token alarm on ${name} (SEC-41)`, () => {
    it('SEC-41: raises one bruteforce event naming the client after 100 invalid tokens over HTTP on Node.js', async () => {
      const recorder = recordEvents();
      try {
        const handler = create();
        await overHttp(handler, 99);
        assert.equal(alarms(recorder.events).length, 0);
        await overHttp(handler, 21);
        const raised = alarms(recorder.events);
        assert.equal(raised.length, 1);
        assert.equal(raised[0]?.detail?.ip, '127.0.0.1');
      } finally {
        recorder.stop();
      }
    });

    it('SEC-41: counts 100 invalid tokens from 100 addresses of one IPv6 /64 as one client (Bun and Deno peer addresses)', async () => {
      const recorder = recordEvents();
      try {
        const handler = create();
        // Bun passes its server (requestIP), Deno its handler info (remoteAddr): one of each per address.
        const bun = (address: string) => ({ requestIP: () => ({ address, family: 'IPv6', port: 1 }) });
        const deno = (hostname: string) => ({ remoteAddr: { transport: 'tcp', hostname, port: 1 } });
        for (let i = 0; i < 99; i++) {
          const address = `2001:db8:0:1:${(i + 1).toString(16)}::${i % 7}`;
          await handler(invalid(), i % 2 === 0 ? bun(address) : deno(address));
          // Another /64 of the same /48 is another client: it never adds to the first one's count.
          await handler(invalid(), bun(`2001:db8:0:2::${i + 1}`));
        }
        assert.equal(alarms(recorder.events).length, 0);
        await handler(invalid(), deno('2001:0db8:0000:0001:ffff:ffff:ffff:ffff'));
        const raised = alarms(recorder.events);
        assert.equal(raised.length, 1);
        assert.equal(raised[0]?.detail?.ip, '2001:db8:0:1::/64');
      } finally {
        recorder.stop();
      }
    });
  });
}

describe('clientAddress option (SEC-41)', () => {
  it('takes the address from the app where the runtime gives none (fetch and Hono)', async () => {
    const recorder = recordEvents();
    try {
      const fromHeader = (request: Request) => request.headers.get('x-test-client') ?? undefined;
      const fetchHandler = withSession(manager(), () => new Response('ok'), { clientAddress: fromHeader });
      const app = new Hono<SessionEnv>();
      app.use(sessionMiddleware(manager(), { clientAddress: (c) => fromHeader(c.req.raw) }));
      app.get('/', (c) => c.text('ok'));
      for (const [handler, client] of [
        [fetchHandler, '198.51.100.7'],
        [app.fetch, '::ffff:198.51.100.8'],
      ] as const) {
        for (let i = 0; i < 100; i++) {
          const request = invalid();
          request.headers.set('x-test-client', client);
          await handler(request);
        }
      }
      assert.deepEqual(
        alarms(recorder.events).map((e) => e.detail?.ip),
        ['198.51.100.7', '198.51.100.8'],
      );
    } finally {
      recorder.stop();
    }
  });

  it('refuses a clientAddress that is not a function, naming it', () => {
    // As an untyped caller (plain JavaScript, a config file) would pass it.
    const bad = JSON.parse('{"clientAddress":"x-forwarded-for"}');
    assert.throws(() => withSession(manager(), () => new Response(), bad), {
      code: 'ERR_SESSION_CONFIG',
      option: 'clientAddress',
    });
    assert.throws(() => sessionMiddleware(manager(), bad), {
      code: 'ERR_SESSION_CONFIG',
      option: 'clientAddress',
    });
  });
});
