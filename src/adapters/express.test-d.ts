/**
 * Type tests for sessionkit/express (compiled by `tsc`, never run): the manager's data type flows
 * into the session a route reads.
 *
 * The `declare global { namespace Express { interface Request { session: Session<AppData> } } }`
 * pattern the module documents cannot be proven here: this program also compiles express-session
 * (bench/), whose own global `req.session` would clash with it. That clash is why sessionkit does not
 * declare `req.session` globally itself.
 */
import express, { type Request, type RequestHandler, Router } from 'express';
import { createSessionManager } from '../core/manager.js';
import type { Session } from '../core/types.js';
import { createMemoryStore } from '../stores/memory.js';
import { type SessionMiddleware, sessionMiddleware } from './express.js';

type AppData = { cart: string[]; visits: number };

const manager = createSessionManager<AppData>({ store: createMemoryStore() });
const sessions = sessionMiddleware(manager);

// The middleware is ordinary Express middleware, for an app and a router.
const app = express();
app.use(sessions);
Router().use(sessions);
export const asHandler: RequestHandler = sessions;

// Its data type is the manager's.
export const typed: SessionMiddleware<AppData> = sessions;
// @ts-expect-error a middleware for other data is not one for AppData
export const mistyped: SessionMiddleware<{ other: boolean }> = sessions;

app.get('/', (req: Request, res) => {
  const session: Session<AppData> = sessions.of(req);
  const cart: string[] | undefined = session.get('cart');
  session.set('visits', (session.get('visits') ?? 0) + 1);
  // @ts-expect-error visits is a number
  session.set('visits', 'many');
  // @ts-expect-error no such key in AppData
  session.get('basket');
  // @ts-expect-error get() may return undefined
  const sure: string[] = session.get('cart');
  res.json({ cart, sure });
});

app.post('/cart', async (req, res) => {
  const cart = await sessions.of(req).update('cart', (current = []) => [...current, 'apple']);
  // @ts-expect-error update() resolves to the key's type
  const wrong: number = cart;
  res.json({ cart, wrong });
});
