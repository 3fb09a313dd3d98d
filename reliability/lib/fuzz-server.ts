/**
 * The fuzz targets, run in a child process (so that a crash is seen as the child's exit): the node
 * and Express adapters, each with a store-backed manager (memory store) and a cookie-only manager.
 * Every response says whose session the request got (`x-owner`) and how many store reads its load
 * made (`x-gets`, counted per request through AsyncLocalStorage). It reports the genuine cookies of
 * the sessions it created to the parent, which mutates them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { sessionMiddleware } from '../../src/adapters/express.js';
import { withSession } from '../../src/adapters/node.js';
import { createCookieSessionManager } from '../../src/cookie-session.js';
import type { SessionStore } from '../../src/index.js';
import { createSessionManager, type Session, type SessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import type { Seed } from './fuzz-headers.js';

type FuzzData = { owner: string };

/** A target as the parent sees it. */
export interface TargetInfo {
  name: string;
  port: number;
  cookieName: string;
  sealed: boolean;
  seeds: Seed[];
}

/** The message the child sends once it listens. */
export interface ReadyMessage {
  type: 'ready';
  targets: TargetInfo[];
}

const SEEDS = 8;
const requests = new AsyncLocalStorage<{ gets: number }>();

function counting(store: SessionStore): SessionStore {
  return {
    kind: store.kind,
    get(key) {
      const context = requests.getStore();
      if (context !== undefined) context.gets++;
      return store.get(key);
    },
    set: (key, record) => store.set(key, record),
    patch: (key, patch) => store.patch(key, patch),
    destroy: (key) => store.destroy(key),
  };
}

function answer(res: ServerResponse, session: Session<FuzzData>): void {
  res.setHeader('x-owner', session.get('owner') ?? '-');
  res.setHeader('x-gets', String(requests.getStore()?.gets ?? -1));
  res.setHeader('content-type', 'text/plain');
  res.setHeader('content-length', '2');
  res.end('ok');
}

async function listen(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server: Server = createServer((req, res) => requests.run({ gets: 0 }, () => listener(req, res)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return address.port;
}

async function seeds(manager: SessionManager<FuzzData>, target: string): Promise<Seed[]> {
  const out: Seed[] = [];
  for (let i = 0; i < SEEDS; i++) {
    const session = await manager.load(undefined, { protocol: 'https' });
    // Owners of four lengths, so sealed values of every length modulo 4 (0, 2 or 4 unused bits at the end).
    const owner = `${target}-${i}${'x'.repeat(i % 4)}`;
    session.set('owner', owner);
    const [cookie] = await manager.commit(session);
    const value = cookie?.split(';', 1)[0]?.slice(manager.cookieName.length + 1);
    if (value === undefined) throw new Error(`no cookie for ${owner}`);
    out.push({ owner, value });
  }
  return out;
}

function storeManager(): SessionManager<FuzzData> {
  return createSessionManager<FuzzData>({
    store: counting(createMemoryStore({ maxEntries: 100_000 })),
    rotateAfterSeconds: 0,
    idleTimeoutSeconds: 43_200,
  });
}

function cookieManager(): SessionManager<FuzzData> {
  return createCookieSessionManager<FuzzData>({
    secrets: [randomBytes(32).toString('base64url')],
    idleTimeoutSeconds: 43_200,
  });
}

async function nodeTarget(
  name: string,
  manager: SessionManager<FuzzData>,
  sealed: boolean,
): Promise<TargetInfo> {
  const port = await listen(withSession(manager, (_req, res, session) => answer(res, session)));
  return { name, port, cookieName: manager.cookieName, sealed, seeds: await seeds(manager, name) };
}

async function expressTarget(
  name: string,
  manager: SessionManager<FuzzData>,
  sealed: boolean,
): Promise<TargetInfo> {
  const sessions = sessionMiddleware(manager);
  const app = express();
  app.disable('x-powered-by');
  app.use(sessions);
  app.get('/', (req, res) => answer(res, sessions.of(req)));
  const port = await listen(app);
  return { name, port, cookieName: manager.cookieName, sealed, seeds: await seeds(manager, name) };
}

const targets = [
  await nodeTarget('node-store', storeManager(), false),
  await expressTarget('express-store', storeManager(), false),
  await nodeTarget('node-cookie', cookieManager(), true),
  await expressTarget('express-cookie', cookieManager(), true),
];
const ready: ReadyMessage = { type: 'ready', targets };
process.send?.(ready);
// The parent ends the run by disconnecting; a parent that died must not leave this process behind.
process.on('disconnect', () => process.exit(0));
