/**
 * The HTML pages: catalog, cart, login and "Your sessions", each with the session panel.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { SessionMiddleware } from '../src/adapters/express.js';
import { systemClock } from '../src/index.js';
import { cartSummary, type ShopData } from './cart.js';
import type { Html } from './html.js';
import { aboutOf, pageHeaders } from './http.js';
import { endedNotice } from './signed-in.js';
import type { SessionBackend } from './stores.js';
import {
  cartBody,
  catalogBody,
  loginBody,
  type PageFrame,
  renderPage,
  type SessionsView,
  sessionsBody,
} from './views.js';

/** The page routes (mount after the session middleware). */
export function pageRouter(sessions: SessionMiddleware<ShopData>, backend: SessionBackend): Router {
  const pages = express.Router();

  function send(req: Request, res: Response, title: string, active: PageFrame['active'], body: Html): void {
    const session = sessions.of(req);
    const nonce = pageHeaders(res);
    const frame: PageFrame = {
      title,
      active,
      nonce,
      // Creates the session on a first visit: the page's forms need the token.
      csrfToken: session.csrfToken(),
      user: session.userId,
      cartCount: cartSummary(session.get('cart')).count,
      notice:
        session.consumeFlash<string>('notice') ??
        endedNotice(req, res, backend.secureCookies, session.userId),
      about: aboutOf(session, backend),
      now: systemClock.now(),
    };
    res.type('html').send(renderPage(frame, body));
  }

  pages.get('/', (req, res) => send(req, res, 'Catalog', 'catalog', catalogBody()));
  pages.get('/cart', (req, res) => send(req, res, 'Cart', 'cart', cartBody(sessions.of(req).get('cart'))));
  pages.get('/login', (req, res) => send(req, res, 'Log in', 'login', loginBody(sessions.of(req).userId)));
  pages.get('/sessions', async (req, res) => {
    const session = sessions.of(req);
    let view: SessionsView;
    if (session.userId === undefined) view = { state: 'anonymous' };
    else if (backend.userSessions === undefined) view = { state: 'unsupported', store: backend.kind };
    else view = { state: 'list', sessions: await backend.userSessions.list(session.userId, session) };
    send(req, res, 'Your sessions', 'sessions', sessionsBody(view, systemClock.now()));
  });
  return pages;
}
