/**
 * The JSON API the pages call (and scripts and tests can): products, cart, login, logout, sessions.
 * Every mutating request must carry the session's CSRF token in `x-csrf-token`.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { SessionMiddleware } from '../src/adapters/express.js';
import {
  addToCart,
  type CartLine,
  cartSummary,
  removeFromCart,
  requireObject,
  requireProduct,
  requireQty,
  type ShopData,
  setQuantity,
} from './cart.js';
import { ShopError } from './errors.js';
import { BODY_LIMIT, meOf, requireUser } from './http.js';
import { markLoggedOut, markSignedIn } from './signed-in.js';
import type { SessionBackend } from './stores.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const USERNAME = /^[A-Za-z0-9_.-]{1,32}$/;

/** The routes under /api that use the session (mount after the session middleware). */
export function apiRouter(sessions: SessionMiddleware<ShopData>, backend: SessionBackend): Router {
  const api = express.Router();

  // The token is checked before the body is even parsed: a cross-site request learns nothing.
  api.use((req: Request, res: Response, next: NextFunction) => {
    res.set('cache-control', 'no-store');
    if (SAFE_METHODS.has(req.method) || sessions.of(req).verifyCsrfToken(req.get('x-csrf-token'))) {
      next();
      return;
    }
    res.status(403).json({
      error: 'missing or wrong CSRF token: send the csrfToken of GET /api/me in the x-csrf-token header',
    });
  });
  api.use(express.json({ limit: BODY_LIMIT }));

  api.get('/me', (req, res) => {
    res.json(meOf(sessions.of(req), backend));
  });

  api.get('/cart', (req, res) => {
    res.json(cartSummary(sessions.of(req).get('cart')));
  });

  api.post('/cart/items', async (req, res) => {
    const session = sessions.of(req);
    const body = requireObject(req.body);
    const product = requireProduct(body.sku);
    const qty = requireQty(body.qty);
    // Flashed first so that it travels in the same store write as the cart.
    session.flash('notice', `Added ${qty} × ${product.name} to your cart.`);
    let cart: CartLine[];
    try {
      cart = await session.update('cart', (current) => addToCart(current, product, qty));
    } catch (error) {
      // A refused add (400) still saves the session: it must not say "Added".
      session.consumeFlash('notice');
      throw error;
    }
    res.json(cartSummary(cart));
  });

  api.put('/cart/items/:sku', async (req, res) => {
    const session = sessions.of(req);
    const product = requireProduct(req.params.sku);
    const qty = requireQty(requireObject(req.body).qty);
    session.flash('notice', `Your cart now holds ${qty} × ${product.name}.`);
    const cart = await session.update('cart', (current) => setQuantity(current, product, qty));
    res.json(cartSummary(cart));
  });

  api.delete('/cart/items/:sku', async (req, res) => {
    const session = sessions.of(req);
    const product = requireProduct(req.params.sku);
    if (!(session.get('cart') ?? []).some((line) => line.sku === product.sku)) {
      throw new ShopError(404, `${product.name} is not in your cart`);
    }
    session.flash('notice', `Removed ${product.name} from your cart.`);
    const cart = await session.update('cart', (current) => removeFromCart(current, product));
    res.json(cartSummary(cart));
  });

  api.post('/login', async (req, res) => {
    const session = sessions.of(req);
    const { username, remember } = requireObject(req.body);
    if (typeof username !== 'string' || !USERNAME.test(username)) {
      throw new ShopError(400, '"username" must be 1 to 32 letters, digits, ".", "_" or "-"');
    }
    // Remember me: a persistent cookie, or one that ends with the browser session.
    await session.login(username, { remember: remember === true });
    markSignedIn(res, backend.secureCookies);
    session.flash('notice', `Welcome, ${username}! Logging in gave your session a new token and id.`);
    res.json(meOf(session, backend));
  });

  api.post('/logout', async (req, res) => {
    await sessions.of(req).destroy();
    markLoggedOut(res, backend.secureCookies);
    res.json({ user: null });
  });

  api.get('/sessions', async (req, res) => {
    const session = sessions.of(req);
    const user = requireUser(session);
    res.json(await userSessions(backend).list(user, session));
  });

  api.delete('/sessions/:id', async (req, res) => {
    const session = sessions.of(req);
    const user = requireUser(session);
    const control = userSessions(backend);
    const id = req.params.id;
    if (id === session.id) {
      await session.destroy();
      markLoggedOut(res, backend.secureCookies);
      res.json({ revoked: id, current: true });
      return;
    }
    if (!(await control.revoke(user, id))) throw new ShopError(404, 'none of your sessions has this id');
    session.flash('notice', `Revoked session ${id.slice(0, 12)}…: that device is logged out.`);
    res.json({ revoked: id, current: false });
  });

  api.use(() => {
    throw new ShopError(404, 'no such API route');
  });
  return api;
}

function userSessions(backend: SessionBackend) {
  if (backend.userSessions === undefined) {
    throw new ShopError(501, `the ${backend.kind} store keeps no per-user index, so it cannot list sessions`);
  }
  return backend.userSessions;
}
