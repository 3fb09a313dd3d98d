/** The limit for Koa contenders: the same routes, no sessions. */
import { createServer } from 'node:http';
import Koa from 'koa';
import { isRoute, serve } from './harness.js';

const app = new Koa();
app.use((ctx) => {
  if (!isRoute(ctx.path)) return;
  ctx.type = 'text/plain';
  ctx.body = '0';
});
serve(createServer(app.callback()));
