/** Peer: koa-session with its defaults (signed cookie store), non-Secure cookie for plain HTTP. */
import { createServer } from 'node:http';
import Koa from 'koa';
import session from 'koa-session';
import { act, PROFILE, SECRET, serve } from './harness.js';

const app = new Koa();
app.keys = [SECRET];
app.use(session({ secure: false }, app));
app.use((ctx) => {
  const current = ctx.session;
  const outcome = act(ctx.path, {
    read: () => current?.n,
    write: (n) => {
      if (current) current.n = n;
    },
    create: () => {
      if (!current) return;
      current.n = 0;
      current.profile = PROFILE;
    },
  });
  ctx.status = outcome.status;
  ctx.type = 'text/plain';
  ctx.body = outcome.body;
});
serve(createServer(app.callback()));
