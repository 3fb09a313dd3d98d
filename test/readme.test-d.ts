/**
 * The README's examples, compiled by `tsc` so they cannot rot (those that need a global type
 * augmentation are checked by the adapters' own type tests instead).
 */
import { createServer } from 'node:http';
import { Hono } from 'hono';
import Koa from 'koa';
import { withSession as withFetchSession } from '../src/adapters/fetch.js';
import { sessionMiddleware as honoSessions, type SessionVariables } from '../src/adapters/hono.js';
import { sessionMiddleware as koaSessions } from '../src/adapters/koa.js';
import { withSession } from '../src/adapters/node.js';
import { createCookieSessionManager } from '../src/cookie-session.js';
import { createSessionManager } from '../src/index.js';
import { createSqliteStore } from '../src/stores/sqlite.js';

type Data = { cart: { sku: string; qty: number }[] };
export const sessions = createSessionManager<Data>({ store: createSqliteStore('data/sessions.db') });

createServer(
  withSession(sessions, async (_req, res, session) => {
    const cart = await session.update('cart', (cart = []) => [...cart, { sku: 'tea', qty: 1 }]);
    res.end(`${cart.length} items`);
  }),
);

new Koa().use(koaSessions(sessions)).use(async (ctx) => {
  ctx.body = ctx.session.get('cart') ?? [];
});

const app = new Hono<{ Variables: SessionVariables<Data> }>();
app.use('/app/*', honoSessions(sessions));
app.get('/app/cart', (c) => c.json(c.get('session').get('cart') ?? []));

export const GET = withFetchSession(sessions, async (_request, session) => {
  session.flash('notice', 'Welcome back');
  return Response.json({ items: session.get('cart') ?? [] });
});

export const cookieSessions = createCookieSessionManager<Data>({
  secrets: [process.env.SESSION_SECRET_2026 ?? '', process.env.SESSION_SECRET_2025 ?? ''],
});
