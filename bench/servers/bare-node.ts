/** The limit for node:http contenders: the same routes, no sessions. */
import { createServer } from 'node:http';
import { isRoute, serve } from './harness.js';

serve(
  createServer((req, res) => {
    const ok = isRoute(req.url);
    res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(ok ? '0' : 'not found');
  }),
);
