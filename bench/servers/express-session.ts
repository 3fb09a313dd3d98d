/**
 * Peer: express-session with its documented production settings (resave: false,
 * saveUninitialized: false) on MemoryStore, connect-redis (node-redis) or connect-pg-simple (pg).
 */
import { createServer } from 'node:http';
import express from 'express';
import session, { type Store } from 'express-session';
import {
  act,
  countMethods,
  countPgStatements,
  countRedisCommands,
  env,
  PROFILE,
  SECRET,
  serve,
  start,
  unavailable,
} from './harness.js';

declare module 'express-session' {
  interface SessionData {
    n: number;
    profile: typeof PROFILE;
  }
}

async function openStore(): Promise<{ store: Store; close: () => Promise<unknown> }> {
  if (env.store === 'memory') {
    const store = countMethods(new session.MemoryStore(), 'memory:', ['get', 'set', 'touch', 'destroy']);
    return { store, close: async () => undefined };
  }
  if (env.store === 'redis') {
    const [{ RedisStore }, { createClient }] = await Promise.all([import('connect-redis'), import('redis')]);
    const client = createClient({ socket: { host: '127.0.0.1', port: env.redisPort } });
    await client.connect();
    countRedisCommands(client);
    return { store: new RedisStore({ client, prefix: env.prefix }), close: () => client.quit() };
  }
  if (env.store === 'postgres') {
    await countPgStatements();
    const [{ default: pg }, { default: connectPgSimple }] = await Promise.all([
      import('pg'),
      import('connect-pg-simple'),
    ]);
    const pool = new pg.Pool(env.pg);
    const PgStore = connectPgSimple(session);
    const store = new PgStore({ pool, tableName: env.table, createTableIfMissing: true });
    return { store, close: () => pool.end() };
  }
  return unavailable(`express-session has no "${env.store}" store in this benchmark`);
}

start(async () => {
  const { store, close } = await openStore();
  const app = express();
  app.use(
    session({
      store,
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      // Plain HTTP on loopback, like sessionkit's insecureDevCookies.
      cookie: { secure: false, httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.use((req, res) => {
    const outcome = act(req.path, {
      read: () => req.session.n,
      write: (n) => {
        req.session.n = n;
      },
      create: () => {
        req.session.n = 0;
        req.session.profile = PROFILE;
      },
    });
    res.status(outcome.status).type('text').send(outcome.body);
  });
  serve(createServer(app), close);
});
