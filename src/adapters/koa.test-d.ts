// Type tests: compiled by `tsc`, never run. Each `@ts-expect-error` line must fail to compile.
import Koa, { type DefaultState, type Middleware } from 'koa';
import { createSessionManager } from '../core/manager.js';
import type { Session } from '../core/types.js';
import { createMemoryStore } from '../stores/memory.js';
import { type SessionContext, sessionMiddleware } from './koa.js';

type Cart = { cart: string[]; visits: number };
const manager = createSessionManager<Cart>({ store: createMemoryStore() });

// app.use() adds ctx.session to the type of the app it returns.
new Koa().use(sessionMiddleware(manager)).use(async (ctx) => {
  const session: Session<Cart> = ctx.session;
  const visits: number | undefined = ctx.session.get('visits');
  ctx.session.set('cart', ['sku-1']);
  // @ts-expect-error `visits` holds a number.
  ctx.session.set('visits', 'two');
  // @ts-expect-error `note` is not a key of the session data.
  ctx.session.get('note');
  // @ts-expect-error `cart` is a string array, not a number.
  const cart: number | undefined = session.get('cart');
  ctx.body = { visits, cart };
});

// An app typed up front.
const typed = new Koa<DefaultState, SessionContext<Cart>>();
typed.use(sessionMiddleware(manager));
typed.use(async (ctx) => {
  // @ts-expect-error `visits` holds a number.
  ctx.session.set('visits', 'two');
});

// The middleware's own type names the context it provides.
const middleware: Middleware<DefaultState, SessionContext<Cart>> = sessionMiddleware(manager);
// @ts-expect-error a middleware for other session data is not this one.
const other: Middleware<DefaultState, SessionContext<{ other: number }>> = sessionMiddleware(manager);

export { middleware, other };
