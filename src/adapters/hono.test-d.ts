// Type tests: compiled by `tsc`, never run. Each `@ts-expect-error` line must fail to compile.
import { Hono } from 'hono';
import { createSessionManager } from '../core/manager.js';
import type { Session } from '../core/types.js';
import { createMemoryStore } from '../stores/memory.js';
import { type SessionEnv, type SessionVariables, sessionMiddleware } from './hono.js';

type Cart = { cart: string[]; visits: number };
const manager = createSessionManager<Cart>({ store: createMemoryStore() });

// The app's Variables type c.get('session').
const app = new Hono<{ Variables: SessionVariables<Cart> }>();
app.use(sessionMiddleware(manager));
app.get('/', (c) => {
  const session: Session<Cart> = c.get('session');
  const visits: number | undefined = session.get('visits');
  session.set('cart', ['sku-1']);
  // @ts-expect-error `visits` holds a number.
  session.set('visits', 'two');
  // @ts-expect-error `note` is not a key of the session data.
  session.get('note');
  // @ts-expect-error `cart` is a string array, not a number.
  const cart: number | undefined = c.get('session').get('cart');
  return c.json({ visits, cart });
});

// Without declaring Variables, a route chained after the middleware sees its type.
new Hono().use(sessionMiddleware(manager)).get('/', (c) => {
  // @ts-expect-error `visits` holds a number.
  c.get('session').set('visits', 'two');
  return c.text(String(c.get('session').get('visits')));
});

// SessionEnv is the whole environment the middleware declares.
const typed = new Hono<SessionEnv<Cart>>();
typed.use(sessionMiddleware(manager));
typed.get('/', (c) => {
  // @ts-expect-error `note` is not a key of the session data.
  c.get('session').set('note', 'x');
  return c.text('ok');
});
