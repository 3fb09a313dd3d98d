/** sessionkit on Express (`sessionMiddleware` → `req.session`), store from BENCH_STORE. */
import { createServer } from 'node:http';
import express from 'express';
import { act, keyValueAccess, serve, start } from './harness.js';
import { createBenchManager } from './sessionkit-manager.js';

start(async () => {
  const [{ sessionMiddleware }, { manager, close }] = await Promise.all([
    import('sessionkit/express'),
    createBenchManager(),
  ]);
  const app = express();
  const sessions = sessionMiddleware(manager);
  app.use(sessions);
  app.use((req, res) => {
    // `of(req)` is `req.session`, typed without a global declaration (express-session declares one here).
    const session = sessions.of(req);
    const outcome = act(req.path, keyValueAccess(session));
    res.status(outcome.status).type('text').send(outcome.body);
  });
  serve(createServer(app), close);
});
