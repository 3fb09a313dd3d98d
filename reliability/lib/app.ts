/**
 * The Express app the chaos and concurrency runs load: a session per simulated user holding its
 * owner, a counter changed with `session.update` and a few string keys changed with `session.set`.
 * Every response shows the whole session, so the client can compare it with its own model.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { sessionMiddleware } from '../../src/adapters/express.js';
import { isSessionError, type Session, type SessionManager } from '../../src/index.js';

/** The session data of the load app. */
export type LoadData = { owner: string; n: number } & { [key: `k${number}`]: string };

/** How many string keys (`k0` …) a session may hold. */
export const VALUE_KEYS = 6;

/** What every successful response carries: the session as the server sees it. */
export interface SessionView {
  isNew: boolean;
  owner: string | null;
  n: number | null;
  values: Record<string, string>;
}

/** A running load app. */
export interface LoadApp {
  readonly port: number;
  /** Errors the error handler answered, by code (or `unexpected`). */
  readonly errors: Map<string, number>;
  close(): Promise<void>;
}

function view(session: Session<LoadData>): SessionView {
  const values: Record<string, string> = {};
  for (let i = 0; i < VALUE_KEYS; i++) {
    const value = session.get(`k${i}`);
    if (value !== undefined) values[`k${i}`] = value;
  }
  return { isNew: session.isNew, owner: session.get('owner') ?? null, n: session.get('n') ?? null, values };
}

const VALUE_KEY = /^k\d$/;

/** Starts the load app on a spare 127.0.0.1 port. */
export async function startLoadApp(manager: SessionManager<LoadData>): Promise<LoadApp> {
  const sessions = sessionMiddleware(manager);
  const errors = new Map<string, number>();
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(sessions);
  app.post('/start', (req, res) => {
    const session = sessions.of(req);
    const owner = typeof req.query.owner === 'string' ? req.query.owner : '';
    if (session.isNew && owner !== '') {
      session.set('owner', owner);
      session.set('n', 0);
    }
    res.json(view(session));
  });
  app.get('/s', (req, res) => {
    res.json(view(sessions.of(req)));
  });
  app.post('/set', (req, res) => {
    const session = sessions.of(req);
    const { k, v } = req.query;
    if (typeof k !== 'string' || !VALUE_KEY.test(k) || typeof v !== 'string') {
      res.status(400).json({ code: 'bad-request' });
      return;
    }
    session.set(`k${Number(k.slice(1))}`, v);
    res.json(view(session));
  });
  app.post('/incr', async (req, res) => {
    const session = sessions.of(req);
    await session.update('n', (n) => (n ?? 0) + 1);
    res.json(view(session));
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const code = isSessionError(error) ? error.code : 'unexpected';
    errors.set(code, (errors.get(code) ?? 0) + 1);
    res.status(isSessionError(error) ? error.status : 500).json({ code });
  });
  const server: Server = app.listen(0, '127.0.0.1');
  // Longer than any run: a keep-alive socket the server closes just as the client reuses it would be
  // a dropped request that says nothing about sessions.
  server.keepAliveTimeout = 10 * 60_000;
  await once(server, 'listening');
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    port: address.port,
    errors,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
