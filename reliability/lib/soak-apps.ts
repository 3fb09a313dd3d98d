/**
 * The soak's apps: the same small shop routes on every adapter (node, Express, Fastify, Koa, Hono,
 * Fetch), each with its own manager and memory store, all on 127.0.0.1.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { sessionMiddleware as expressSessions } from '../../src/adapters/express.js';
import { sessionPlugin } from '../../src/adapters/fastify.js';
import { withSession as fetchSession } from '../../src/adapters/fetch.js';
import { sessionMiddleware as honoSessions, type SessionEnv } from '../../src/adapters/hono.js';
import { sessionMiddleware as koaSessions } from '../../src/adapters/koa.js';
import { withSession as nodeSession } from '../../src/adapters/node.js';
import { type Clock, createSessionManager, type Session, type SessionManager } from '../../src/index.js';
import { createMemoryStore, type MemoryStore } from '../../src/stores/memory.js';

/** A cart line: about 60 bytes of JSON. */
export interface CartItem {
  sku: string;
  qty: number;
  price: number;
}

/** What a soak session holds. */
export type SoakData = { cart: CartItem[]; visits: number; profile: { name: string; locale: string } };

/** The adapters the soak runs. */
export const ADAPTERS = ['node', 'express', 'fastify', 'koa', 'hono', 'fetch'] as const;
/** One of `ADAPTERS`. */
export type AdapterName = (typeof ADAPTERS)[number];

/** A running soak app. */
export interface SoakApp {
  readonly adapter: AdapterName;
  readonly port: number;
  readonly store: MemoryStore;
  readonly cookieName: string;
  close(): Promise<void>;
}

interface Outcome {
  status: number;
  body: string;
}

/** The shop's routes, the same on every adapter. */
async function route(session: Session<SoakData>, method: string, path: string): Promise<Outcome> {
  const json = (value: unknown): Outcome => ({ status: 200, body: JSON.stringify(value) });
  if (method === 'POST' && path === '/start') {
    session.set('cart', []);
    session.set('visits', 0);
    session.set('profile', { name: 'Soak Visitor', locale: 'en-GB' });
    return json({ ok: true });
  }
  if (method === 'GET' && path === '/s') return json({ cart: session.get('cart')?.length ?? null });
  if (method === 'POST' && path === '/add') {
    const cart = session.get('cart') ?? [];
    const item = { sku: `SKU-${cart.length}-${Math.floor(Math.random() * 1e6)}`, qty: 1, price: 9.99 };
    session.set('cart', [...cart.slice(-4), item]);
    return json({ cart: cart.length + 1 });
  }
  if (method === 'POST' && path === '/visit')
    return json({ visits: await session.update('visits', (n) => (n ?? 0) + 1) });
  if (method === 'POST' && path === '/logout') {
    await session.destroy();
    return json({ ok: true });
  }
  return { status: 404, body: '{}' };
}

function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?', 1)[0] ?? '/';
}

async function listen(server: Server): Promise<number> {
  // Longer than the run: see app.ts.
  server.keepAliveTimeout = 20 * 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return address.port;
}

function reply(res: ServerResponse, outcome: Outcome): void {
  res.statusCode = outcome.status;
  res.setHeader('content-type', 'application/json');
  res.end(outcome.body);
}

async function serverFor(adapter: AdapterName, manager: SessionManager<SoakData>): Promise<Server> {
  switch (adapter) {
    case 'node':
      return createServer(
        nodeSession(manager, async (req: IncomingMessage, res, session) =>
          reply(res, await route(session, req.method ?? 'GET', pathOf(req.url))),
        ),
      );
    case 'express': {
      const sessions = expressSessions(manager);
      const app = express();
      app.use(sessions);
      app.use(async (req, res) => reply(res, await route(sessions.of(req), req.method, req.path)));
      return createServer(app);
    }
    case 'fastify': {
      const app = Fastify({ logger: false });
      await app.register(sessionPlugin, { manager });
      app.route({
        method: ['GET', 'POST'],
        url: '/*',
        handler: async (request, response) => {
          const outcome = await route(
            request.getDecorator<Session<SoakData>>('session'),
            request.method,
            pathOf(request.url),
          );
          return response.code(outcome.status).type('application/json').send(outcome.body);
        },
      });
      await app.ready();
      return app.server;
    }
    case 'koa': {
      const app = new Koa();
      app.use(koaSessions(manager)).use(async (ctx) => {
        const outcome = await route(ctx.session, ctx.method, ctx.path);
        ctx.status = outcome.status;
        ctx.type = 'application/json';
        ctx.body = outcome.body;
      });
      return createServer(app.callback());
    }
    case 'hono': {
      const app = new Hono<SessionEnv<SoakData>>();
      app.use(honoSessions(manager));
      app.all('*', async (c) => {
        const outcome = await route(c.get('session'), c.req.method, c.req.path);
        return c.body(outcome.body, 200, { 'content-type': 'application/json' });
      });
      return createServer(getRequestListener(app.fetch));
    }
    case 'fetch': {
      const handler = fetchSession(manager, async (request, session) => {
        const outcome = await route(session, request.method, new URL(request.url).pathname);
        return new Response(outcome.body, {
          status: outcome.status,
          headers: { 'content-type': 'application/json' },
        });
      });
      return createServer(getRequestListener(handler));
    }
  }
}

/** Starts one soak app with its own memory store on `clock`. */
export async function startSoakApp(
  adapter: AdapterName,
  clock: Clock,
  options: { idleTimeoutSeconds: number; rotateAfterSeconds: number; maxEntries: number },
): Promise<SoakApp> {
  const store = createMemoryStore({ clock, maxEntries: options.maxEntries, sweepIntervalSeconds: 1 });
  const manager = createSessionManager<SoakData>({
    store,
    clock,
    trustProxy: true,
    idleTimeoutSeconds: options.idleTimeoutSeconds,
    absoluteTimeoutSeconds: options.idleTimeoutSeconds * 4,
    rotateAfterSeconds: options.rotateAfterSeconds,
  });
  const server = await serverFor(adapter, manager);
  const port = await listen(server);
  return {
    adapter,
    port,
    store,
    cookieName: manager.cookieName,
    async close() {
      server.closeAllConnections();
      server.close();
      await manager.close();
    },
  };
}
