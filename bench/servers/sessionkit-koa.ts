/** sessionkit on Koa (`sessionMiddleware` → `ctx.session`), store from BENCH_STORE. */
import { createServer } from 'node:http';
import Koa from 'koa';
import { act, keyValueAccess, serve, start } from './harness.js';
import { createBenchManager } from './sessionkit-manager.js';

start(async () => {
  const [{ sessionMiddleware }, { manager, close }] = await Promise.all([
    import('sessionkit/koa'),
    createBenchManager(),
  ]);
  const app = new Koa();
  app.use(sessionMiddleware(manager));
  app.use((ctx) => {
    const session = ctx.session;
    const outcome = act(ctx.path, keyValueAccess(session));
    ctx.status = outcome.status;
    ctx.type = 'text/plain';
    ctx.body = outcome.body;
  });
  serve(createServer(app.callback()), close);
});
