/**
 * The shop as an Express 5 app: routes that need no session first (they cost no store I/O), then
 * the session middleware, the JSON API, the pages and the error handler.
 */
import express, { type Express } from 'express';
import { sessionMiddleware } from '../src/adapters/express.js';
import { apiRouter } from './api.js';
import { PRODUCTS } from './catalog.js';
import { ShopError } from './errors.js';
import { errorHandler } from './http.js';
import { pageRouter } from './pages.js';
import type { SessionBackend } from './stores.js';

/** Creates the shop's request handler on `backend`. */
export function createShopApp(backend: SessionBackend): Express {
  const app = express();
  app.disable('x-powered-by');
  // Pages and API answers depend on the session: a 304 from a stale ETag would show another state.
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.set('x-content-type-options', 'nosniff');
    next();
  });

  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  app.get('/api/products', (_req, res) => {
    res.json(PRODUCTS.map(({ sku, name, price }) => ({ sku, name, price })));
  });

  const sessions = sessionMiddleware(backend.manager);
  app.use(sessions);
  app.use('/api', apiRouter(sessions, backend));
  app.use(pageRouter(sessions, backend));
  app.use(() => {
    throw new ShopError(404, 'there is no page at this address');
  });
  app.use(errorHandler());
  return app;
}
