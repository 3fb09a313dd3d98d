/** The limit for Express contenders: the same routes, no sessions. */
import { createServer } from 'node:http';
import express from 'express';
import { isRoute, serve } from './harness.js';

// Answered the way the session servers answer (one `app.use` handler, `status`, `type`, `send`), so
// the ratio measures the session work only.
const app = express();
app.use((req, res) => {
  const ok = isRoute(req.path);
  res
    .status(ok ? 200 : 404)
    .type('text')
    .send(ok ? '0' : 'not found');
});
serve(createServer(app));
